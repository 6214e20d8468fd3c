using System.Net;
using System.Net.Http.Json;
using Rehome.Directory.ActiveDirectory;
using Rehome.Directory.OfflineJoin;
using Rehome.Directory.Tests.ActiveDirectory;
using Rehome.Directory.Tests.OfflineJoin;
using Rehome.Protocol;
using Rehome.Security.Sids;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.EndToEnd.Tests.Directories;

/// <summary>The server's connections against the Samba pair: tests, discovery, SID maps, offline join, readiness, outages.</summary>
public sealed class ActiveDirectoryConnectedTests
{
    private static readonly SambaDomain Source = ConnectedWorld.Source;
    private static readonly SambaDomain Destination = ConnectedWorld.Destination;

    /// <summary>A computer account that exists in the destination before the run (another machine's).</summary>
    private static async Task<string> ExistingDestinationComputerAsync()
    {
        using var directory = new LdapActiveDirectoryDirectory(Destination.Options());
        var name = SambaDomains.NewComputerName("OLD-");
        var created = await directory.EnsureComputerAccountAsync(new ComputerAccountRequest(name, Destination.Workstations, ReuseExisting: false));
        Assert.Equal(ComputerAccountOutcome.Created, created.Outcome);
        return name;
    }

    private static async Task<string> SidOfAsync(SambaDomain domain, string name)
    {
        using var directory = new LdapActiveDirectoryDirectory(domain.Options());
        return (await directory.FindAccountAsync(name))!.Sid;
    }

    [Fact]
    public async Task Testing_a_connection_reports_each_check_against_the_real_domain_controllers()
    {
        await using var world = await ConnectedWorld.StartAsync();

        var source = await world.Api.PostJsonAsync($"/api/v1/connections/{world.SourceConnectionId}/test", new { }, HttpStatusCode.OK);
        var destination = await world.Api.PostJsonAsync($"/api/v1/connections/{world.DestinationConnectionId}/test", new { }, HttpStatusCode.OK);

        Assert.True(source.GetProperty("succeeded").GetBoolean(), source.ToString());
        var checks = source.GetProperty("parts")[0].GetProperty("checks").EnumerateArray().Select(c => c.GetProperty("name").GetString()).ToList();
        Assert.True(checks.Count >= 3, string.Join(", ", checks));
        Assert.Contains(source.GetProperty("parts")[0].GetProperty("checks").EnumerateArray(),
            c => c.GetProperty("detail").GetString()!.Contains(Source.NetBiosName, StringComparison.OrdinalIgnoreCase));
        Assert.True(destination.GetProperty("succeeded").GetBoolean(), destination.ToString());
        Assert.Contains(destination.GetProperty("parts")[0].GetProperty("checks").EnumerateArray(),
            c => c.GetProperty("name").GetString() == "Target OU" && c.GetProperty("passed").GetBoolean());
    }

    [Fact]
    public async Task A_wrong_password_or_a_missing_domain_controller_fails_the_test_with_the_reason_and_no_secret()
    {
        await using var world = await ConnectedWorld.StartAsync();
        var wrong = (await world.Api.PostJsonAsync("/api/v1/connections",
            ConnectedWorld.DestinationConnection(ApiClient.Unique("wrong"), Destination.Address, "Not-The-Pa55word"))).GetProperty("connection").Id();
        var bare = (await world.Api.PostJsonAsync("/api/v1/connections", new
        {
            name = ApiClient.Unique("bare"),
            role = "Destination",
            kind = "ActiveDirectory",
            destination = new { domainDnsName = Destination.DnsName, targetOu = Destination.Workstations, rejoinMethod = "Offline" },
        })).GetProperty("connection").Id();

        var refused = await world.Api.PostJsonAsync($"/api/v1/connections/{wrong}/test", new { }, HttpStatusCode.OK);
        var unset = await world.Api.PostJsonAsync($"/api/v1/connections/{bare}/test", new { }, HttpStatusCode.OK);

        Assert.False(refused.GetProperty("succeeded").GetBoolean());
        Assert.Contains(refused.GetProperty("parts")[0].GetProperty("checks").EnumerateArray(), c => !c.GetProperty("passed").GetBoolean());
        Assert.DoesNotContain("Not-The-Pa55word", refused.ToString(), StringComparison.Ordinal);
        var check = unset.GetProperty("parts")[0].GetProperty("checks")[0];
        Assert.Equal("Configuration", check.GetProperty("name").GetString());
        Assert.Contains("names no domain controller", check.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Discovery_lists_an_ou_of_the_source_and_adds_each_computer_once()
    {
        await using var world = await ConnectedWorld.StartAsync();
        var ou = Uri.EscapeDataString($"OU=Workstations,{Source.BaseDn}");

        var listed = await world.Api.GetJsonAsync($"/api/v1/connections/{world.SourceConnectionId}/computers?ou={ou}&limit=10000");
        var first = await world.Api.PostJsonAsync($"/api/v1/projects/{world.ProjectId}/mappings/discover",
            new { organizationalUnit = $"OU=Workstations,{Source.BaseDn}", destinationNameFormat = "N{name}" }, HttpStatusCode.OK);
        var again = await world.Api.PostJsonAsync($"/api/v1/projects/{world.ProjectId}/mappings/discover",
            new { organizationalUnit = $"OU=Workstations,{Source.BaseDn}" }, HttpStatusCode.OK);
        var missing = await world.Api.PostAsJsonAsync($"/api/v1/projects/{world.ProjectId}/mappings/discover", new { organizationalUnit = $"OU=Nowhere,{Source.BaseDn}" });
        var mappings = await world.Api.GetJsonAsync($"/api/v1/projects/{world.ProjectId}/mappings?pageSize=1000&sort=sourceDevice");

        var names = listed.EnumerateArray().Select(c => c.GetProperty("name").GetString()!).ToList();
        Assert.Equal(40, names.Count);
        Assert.Contains("PC-01", names);
        Assert.DoesNotContain("SRV-01", names);
        Assert.Equal(40, first.GetProperty("created").GetInt32());
        Assert.Equal(0, again.GetProperty("created").GetInt32());
        Assert.Equal(40, again.GetProperty("alreadyInProject").GetInt32());
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Contains("OU=Nowhere", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var pc01 = mappings.GetProperty("items").EnumerateArray().First(m => m.GetProperty("sourceDevice").GetString() == "PC-01");
        Assert.Equal("NPC-01", pc01.GetProperty("destinationName").GetString());
    }

    [Fact]
    public async Task The_sid_map_pairs_source_users_and_groups_with_their_destination_namesakes_and_names_the_rest()
    {
        await using var world = await ConnectedWorld.StartAsync();
        var user = await SidOfAsync(Source, "user01");
        var group = await SidOfAsync(Source, "Finance");
        var stranger = SecurityIdentifier.Parse("S-1-5-21-1-2-3-4242");

        var answer = await world.Directory.MapSidsAsync(await world.ProjectAsync(), new Core.Policies.PolicySettings
        {
            IdentityMapping = new Core.Policies.IdentityMappingSettings
            {
                UpnPrefixAutoMapping = true,
                Domains = [new Core.Policies.IdentityPair(Source.NetBiosName, Destination.NetBiosName)],
            },
        }, [SecurityIdentifier.Parse(user), SecurityIdentifier.Parse(group), stranger], CancellationToken.None);
        var identities = await world.Api.GetJsonAsync($"/api/v1/projects/{world.ProjectId}/identities");
        var refreshed = await world.Api.PostJsonAsync($"/api/v1/projects/{world.ProjectId}/identities/refresh", new { }, HttpStatusCode.OK);

        var pairs = answer.Pairs.ToDictionary(p => p.Source, p => p.Destination);
        Assert.Equal(await SidOfAsync(Destination, "user01"), pairs[user]);
        Assert.Equal(await SidOfAsync(Destination, "Finance"), pairs[group]);
        var unmapped = Assert.Single(answer.Unmapped);
        Assert.Equal(stranger.ToString(), unmapped.Sid);
        Assert.Contains("Not found in the source directory", unmapped.Reason, StringComparison.Ordinal);
        Assert.True(identities.GetProperty("loaded").GetBoolean());
        Assert.True(identities.GetProperty("sourceUsers").GetInt32() >= 61, identities.ToString());
        Assert.True(identities.GetProperty("mapped").GetInt32() >= 64, identities.ToString());
        Assert.True(refreshed.GetProperty("loadedAt").GetDateTimeOffset() > identities.GetProperty("loadedAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task The_offline_join_data_made_for_a_mapping_joins_a_real_machine_and_is_deleted_after_use()
    {
        await using var world = await ConnectedWorld.StartAsync();
        var device = SambaDomains.NewComputerName("SRC-");
        var name = SambaDomains.NewComputerName("ODJ-");
        var mappingId = await world.AddMappingAsync(device, name);
        var agent = await world.EnrollAsync(device);
        var runId = await world.StartRunAsync([mappingId], "RejoinDomain");

        var waiting = await world.WaitForJobAsync(runId, mappingId, s => s != "WaitingForDestination");
        var stored = await world.StoredPayloadAsync(waiting.GetProperty("id").GetGuid());
        var poll = await agent.PostAsync("/agent/v1/poll?wait=5", null);
        var assignment = (await poll.Content.ReadFromJsonAsync<JobAssignment>(AgentProtocol.JsonOptions))!;
        var data = assignment.Join!.ProvisioningData!;
        var scratch = System.IO.Directory.CreateTempSubdirectory("rehome-member-");
        try
        {
            var joined = await SambaMember.JoinAsync(Destination, name, OfflineJoinFile.FromBase64Text(data), scratch);
            Assert.True(joined.RequestExitCode == 0, joined.RequestOutput);
            Assert.True(joined.TestJoinExitCode == 0, joined.TestJoinOutput);
            Assert.Contains("Join is OK", joined.TestJoinOutput, StringComparison.Ordinal);
        }
        finally
        {
            scratch.Delete(true);
        }
        var complete = await agent.PostAsJsonAsync($"/agent/v1/jobs/{assignment.JobId}/complete",
            new CompletionReport { LeaseToken = assignment.LeaseToken, Status = CompletionStatus.Finished }, AgentProtocol.JsonOptions);

        Assert.Equal("WaitingToStart", waiting.GetProperty("status").GetString());
        Assert.NotNull(stored);
        Assert.DoesNotContain(data[..40], stored, StringComparison.Ordinal);
        Assert.Equal(name, assignment.Join.ComputerName);
        Assert.Equal(HttpStatusCode.NoContent, complete.StatusCode);
        Assert.Null(await world.StoredPayloadAsync(assignment.JobId));
        using var directory = new LdapActiveDirectoryDirectory(Destination.Options());
        Assert.Equal($"CN={name},{Destination.Workstations}", (await directory.FindComputerAsync(name))?.DistinguishedName);
    }

    [Fact]
    public async Task A_taken_name_and_a_missing_ou_fail_the_rejoin_with_the_domains_reason()
    {
        await using var world = await ConnectedWorld.StartAsync();
        var existing = await ExistingDestinationComputerAsync();
        var taken = await world.AddMappingAsync(SambaDomains.NewComputerName("SRC-"), existing);
        var noOu = await world.AddMappingAsync(SambaDomains.NewComputerName("SRC-"), SambaDomains.NewComputerName("OU-"), $"OU=Missing,{Destination.BaseDn}");
        var runId = await world.StartRunAsync([taken, noOu], "RejoinDomain");

        var nameJob = await world.WaitForJobAsync(runId, taken, s => s == "Failed");
        var ouJob = await world.WaitForJobAsync(runId, noOu, s => s == "Failed");

        Assert.Equal("ComputerNameTaken", nameJob.GetProperty("errorCode").GetString());
        Assert.Contains(existing, nameJob.GetProperty("errorMessage").GetString(), StringComparison.Ordinal);
        Assert.Equal("OrganizationalUnitMissing", ouJob.GetProperty("errorCode").GetString());
        Assert.Contains("OU=Missing", ouJob.GetProperty("errorMessage").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Readiness_reports_the_agent_the_destination_name_and_the_profiles_identities_of_each_mapping()
    {
        await using var world = await ConnectedWorld.StartAsync();
        var device = SambaDomains.NewComputerName("RDY-");
        var ready = await world.AddMappingAsync(device, SambaDomains.NewComputerName("NEW-"));
        var notReady = await world.AddMappingAsync(SambaDomains.NewComputerName("RDY-"), await ExistingDestinationComputerAsync());
        using var agent = await world.EnrollAsync(device, [await SidOfAsync(Source, "user02"), "S-1-5-21-1-2-3-4242"]);

        var report = await world.Api.PostJsonAsync($"/api/v1/projects/{world.ProjectId}/readiness",
            new { kinds = new[] { "RejoinDomain", "MigratePermissions" } }, HttpStatusCode.OK);

        var byMapping = report.GetProperty("mappings").EnumerateArray().ToDictionary(m => m.GetProperty("mappingId").GetGuid());
        string Outcome(Guid mapping, string check) =>
            byMapping[mapping].GetProperty("checks").EnumerateArray().First(c => c.GetProperty("check").GetString() == check).GetProperty("outcome").GetString()!;
        string Detail(Guid mapping, string check) =>
            byMapping[mapping].GetProperty("checks").EnumerateArray().First(c => c.GetProperty("check").GetString() == check).GetProperty("detail").GetString()!;
        Assert.Equal(2, report.GetProperty("mappingCount").GetInt32());
        Assert.Equal("Passed", Outcome(ready, "Agent"));
        Assert.Equal("Passed", Outcome(ready, "Disk space"));
        Assert.Equal("Passed", Outcome(ready, "Destination computer"));
        Assert.Equal("Failed", Outcome(ready, "Identities"));
        Assert.Contains("1 of 2", Detail(ready, "Identities"), StringComparison.Ordinal);
        Assert.Contains("S-1-5-21-1-2-3-4242", Detail(ready, "Identities"), StringComparison.Ordinal);
        Assert.Equal("Failed", Outcome(notReady, "Agent"));
        Assert.Equal("Failed", Outcome(notReady, "Destination computer"));
        Assert.Contains("taken", Detail(notReady, "Destination computer"), StringComparison.Ordinal);
        Assert.Equal(0, report.GetProperty("readyCount").GetInt32());
    }

    [Fact]
    public async Task An_unreachable_destination_keeps_the_rejoin_waiting_then_fails_it_with_the_reason()
    {
        // 127.0.0.9 answers nothing: every attempt is refused, as with a DC that is down.
        await using var world = await ConnectedWorld.StartAsync(destinationController: "127.0.0.9", retryWindow: "00:00:04");
        var mapping = await world.AddMappingAsync(SambaDomains.NewComputerName("SRC-"), SambaDomains.NewComputerName("OUT-"));
        var runId = await world.StartRunAsync([mapping], "RejoinDomain");

        await Task.Delay(1500);
        var meanwhile = await world.JobAsync(runId, mapping);
        var failed = await world.WaitForJobAsync(runId, mapping, s => s == "Failed", TimeSpan.FromSeconds(30));

        Assert.Equal("WaitingForDestination", meanwhile.GetProperty("status").GetString());
        Assert.Equal("Failed", failed.GetProperty("status").GetString());
        Assert.Equal("DirectoryUnavailable", failed.GetProperty("errorCode").GetString());
        Assert.Contains("could not be reached", failed.GetProperty("errorMessage").GetString(), StringComparison.Ordinal);
    }
}
