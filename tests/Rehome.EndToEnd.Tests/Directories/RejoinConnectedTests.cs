using System.Net;
using System.Net.Http.Json;
using Rehome.Directory.ActiveDirectory;
using Rehome.Directory.OfflineJoin;
using Rehome.Directory.Tests.ActiveDirectory;
using Rehome.Directory.Tests.OfflineJoin;
using Rehome.Protocol;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.EndToEnd.Tests.Directories;

/// <summary>The rejoin's join data against the Samba pair: the return ticket into the source, the online one-time password.</summary>
public sealed class RejoinConnectedTests
{
    private static readonly SambaDomain Source = ConnectedWorld.Source;
    private static readonly SambaDomain Destination = ConnectedWorld.Destination;

    /// <summary>Enrolls the device, runs its rejoin and answers its first assignment.</summary>
    private static async Task<(HttpClient Agent, JobAssignment Job)> LeaseRejoinAsync(ConnectedWorld world, string device, string destinationName)
    {
        var mappingId = await world.AddMappingAsync(device, destinationName);
        var agent = await world.EnrollAsync(device);
        var runId = await world.StartRunAsync([mappingId], "RejoinDomain");
        await world.WaitForJobAsync(runId, mappingId, s => s != "WaitingForDestination");
        var poll = await agent.PostAsync(new Uri("/agent/v1/poll?wait=5", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.OK, poll.StatusCode);
        return (agent, (await poll.Content.ReadFromJsonAsync<JobAssignment>(AgentProtocol.JsonOptions))!);
    }

    [Fact]
    public async Task The_return_ticket_joins_a_real_machine_back_into_its_source_under_its_existing_account()
    {
        await using var world = await ConnectedWorld.StartAsync();
        using var source = new LdapActiveDirectoryDirectory(Source.Options());
        var device = SambaDomains.NewComputerName("RET-");
        var before = (await source.EnsureComputerAccountAsync(new ComputerAccountRequest(device, $"CN=Computers,{Source.BaseDn}", ReuseExisting: false))).Computer!;
        var (agent, job) = await LeaseRejoinAsync(world, device, SambaDomains.NewComputerName("DST-"));

        var response = await agent.PostAsJsonAsync($"/agent/v1/jobs/{job.JobId}/return-ticket",
            new ReturnTicketRequest(job.LeaseToken, device, DeviceJoinType.ActiveDirectory, Source.DnsName, null), AgentProtocol.JsonOptions);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var ticket = (await response.Content.ReadFromJsonAsync<DestinationJoin>(AgentProtocol.JsonOptions))!;
        Assert.Equal((JoinKind.ActiveDirectory, true, Source.DnsName, device), (ticket.Kind, ticket.Offline, ticket.DomainDnsName, ticket.ComputerName));
        var scratch = System.IO.Directory.CreateTempSubdirectory("rehome-return-");
        try
        {
            var joined = await SambaMember.JoinAsync(Source, device, OfflineJoinFile.FromBase64Text(ticket.ProvisioningData!), scratch);
            Assert.True(joined.RequestExitCode == 0, joined.RequestOutput);
            Assert.Contains("Join is OK", joined.TestJoinOutput, StringComparison.Ordinal);
        }
        finally
        {
            scratch.Delete(true);
        }
        var after = await source.FindComputerAsync(device);
        Assert.Equal((before.DistinguishedName, before.Sid), (after!.DistinguishedName, after.Sid));
        Assert.DoesNotContain(world.Server.Logs.Lines, line => line.Contains(ticket.ProvisioningData![..40], StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_device_without_a_computer_account_in_its_source_gets_no_return_ticket_and_is_told_why()
    {
        await using var world = await ConnectedWorld.StartAsync();
        var device = SambaDomains.NewComputerName("NOACC-");
        var (agent, job) = await LeaseRejoinAsync(world, device, SambaDomains.NewComputerName("DST-"));

        var response = await agent.PostAsJsonAsync($"/agent/v1/jobs/{job.JobId}/return-ticket",
            new ReturnTicketRequest(job.LeaseToken, device, DeviceJoinType.ActiveDirectory, Source.DnsName, null), AgentProtocol.JsonOptions);

        var problem = await response.JsonAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal("ReturnTicketUnavailable", problem.GetProperty("rule").GetString());
        Assert.Contains($"no computer account named {device}", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_online_rejoin_gives_the_device_a_one_time_password_with_which_its_pre_created_account_authenticates()
    {
        await using var world = await ConnectedWorld.StartAsync(rejoinMethod: "Online");
        var name = SambaDomains.NewComputerName("ONL-");

        var (_, job) = await LeaseRejoinAsync(world, SambaDomains.NewComputerName("SRC-"), name);

        Assert.False(job.Join!.Offline);
        Assert.Null(job.Join.ProvisioningData);
        using var asComputer = new LdapActiveDirectoryDirectory(Destination.Options(user: name + "$", password: job.Join.OneTimePassword));
        Assert.Equal(Destination.DnsName, (await asComputer.ReadDomainAsync()).DnsName, ignoreCase: true);
        Assert.DoesNotContain(world.Server.Logs.Lines, line => line.Contains(job.Join.OneTimePassword!, StringComparison.Ordinal));
    }
}
