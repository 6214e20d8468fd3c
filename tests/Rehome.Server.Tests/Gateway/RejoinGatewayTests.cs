using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rehome.Protocol;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Gateway;

/// <summary>
/// What a rejoin's agent receives through the real gateway, with the simulated directory: its join data, its
/// return ticket, its provisioning package, its break-glass account; and what other callers do not receive.
/// </summary>
public sealed class RejoinGatewayTests(SimulatedDirectoryServer server) : IClassFixture<SimulatedDirectoryServer>
{
    private ServerHost Host => server.Host;

    private static ReturnTicketRequest Ask(JobAssignment job, string computerName) =>
        new(job.LeaseToken, computerName, DeviceJoinType.ActiveDirectory, "contoso.example", null);

    [Fact]
    public async Task A_return_ticket_is_offline_join_data_that_puts_the_device_back_into_its_source_under_its_source_name()
    {
        using var device = await Host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"),
            source: new { domainDnsName = "contoso.example" });
        var job = await Host.RunAndPollAsync(device, "RejoinDomain");

        var response = await device.Agent.AskReturnTicketAsync(job.JobId, Ask(job, device.DeviceName.ToLowerInvariant()));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var ticket = (await response.Content.ReadFromJsonAsync<DestinationJoin>(AgentProtocol.JsonOptions))!;
        Assert.Equal((JoinKind.HybridIdentity, true, "contoso.example", device.DeviceName.ToLowerInvariant()),
            (ticket.Kind, ticket.Offline, ticket.DomainDnsName, ticket.ComputerName));
        var data = JsonDocument.Parse(Convert.FromBase64String(ticket.ProvisioningData!)).RootElement;
        Assert.Equal(device.DeviceName, data.GetProperty("computerName").GetString());
        Assert.Equal("contoso.example", data.GetProperty("domain").GetString());
        Assert.Null(ticket.PackageBytes);
        Assert.DoesNotContain(Host.Logs.Lines, line => line.Contains(ticket.ProvisioningData!, StringComparison.Ordinal));
        await using var scope = Host.Scope();
        var audit = await scope.ServiceProvider.GetRequiredService<RehomeDbContext>().AuditLog.AsNoTracking()
            .SingleAsync(a => a.Action == "job.return-ticket" && a.Target == $"job:{job.JobId}");
        Assert.DoesNotContain(ticket.ProvisioningData!, audit.Details ?? "", StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_return_ticket_asked_with_a_stale_lease_token_gets_409_and_no_ticket()
    {
        using var device = await Host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"));
        var job = await Host.RunAndPollAsync(device, "RejoinDomain");

        var response = await device.Agent.AskReturnTicketAsync(job.JobId, Ask(job, device.DeviceName) with { LeaseToken = Guid.NewGuid() });

        var problem = await response.JsonAsync(HttpStatusCode.Conflict);
        Assert.Equal("LeaseLost", problem.GetProperty("rule").GetString());
    }

    [Fact]
    public async Task Another_agent_cannot_get_the_return_ticket_of_a_job_it_does_not_hold_even_with_its_lease_token()
    {
        using var device = await Host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"));
        using var other = await Host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"));
        var job = await Host.RunAndPollAsync(device, "RejoinDomain");

        var response = await other.Agent.AskReturnTicketAsync(job.JobId, Ask(job, device.DeviceName));

        var problem = await response.JsonAsync(HttpStatusCode.Conflict);
        Assert.Equal("LeaseLost", problem.GetProperty("rule").GetString());
        Assert.DoesNotContain("provisioningData", problem.GetRawText(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_return_ticket_for_a_job_that_is_no_rejoin_is_refused()
    {
        using var device = await Host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"),
            source: new { entraId = new { tenantId = Guid.NewGuid(), clientId = Guid.NewGuid(), clientSecret = "entra-secret-value", enabled = true } });
        var job = await Host.RunAndPollAsync(device, "MigrateEntraIdGroups");

        var response = await device.Agent.AskReturnTicketAsync(job.JobId, Ask(job, device.DeviceName));

        var problem = await response.JsonAsync(HttpStatusCode.Conflict);
        Assert.Equal("ReturnTicketNotForThisJob", problem.GetProperty("rule").GetString());
    }

    [Fact]
    public async Task A_return_ticket_is_only_for_the_device_s_own_computer_account()
    {
        using var device = await Host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"));
        var job = await Host.RunAndPollAsync(device, "RejoinDomain");

        var response = await device.Agent.AskReturnTicketAsync(job.JobId, Ask(job, "DC01"));

        var problem = await response.JsonAsync(HttpStatusCode.BadRequest);
        Assert.Contains("computerName", problem.GetProperty("errors").GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_online_Active_Directory_rejoin_carries_a_one_time_password_kept_encrypted_on_the_job()
    {
        using var device = await Host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Online"));

        var job = await Host.RunAndPollAsync(device, "RejoinDomain");

        var join = job.Join!;
        Assert.False(join.Offline);
        Assert.Null(join.ProvisioningData);
        Assert.True(join.OneTimePassword is { Length: >= 32 }, "The assignment carries the computer account's one-time password.");
        Assert.DoesNotContain(join.OneTimePassword, join.ToString(), StringComparison.Ordinal);
        await using var scope = Host.Scope();
        var stored = await scope.ServiceProvider.GetRequiredService<RehomeDbContext>().Jobs.AsNoTracking().SingleAsync(j => j.Id == job.JobId);
        Assert.NotNull(stored.DestinationPayloadProtected);
        Assert.DoesNotContain(join.OneTimePassword, stored.DestinationPayloadProtected, StringComparison.Ordinal);
        Assert.DoesNotContain(Host.Logs.Lines, line => line.Contains(join.OneTimePassword, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_rejoin_carries_the_source_s_break_glass_account_and_the_policy_s_hybrid_registration_wait()
    {
        const string password = "Keep-Reachable-2026!xq";
        using var device = await Host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"),
            source: new { breakGlassAdministratorName = "rescue", breakGlassAdministratorPassword = password },
            policy: new { hybridRegistrationWaitSeconds = 900 });

        var job = await Host.RunAndPollAsync(device, "RejoinDomain");

        Assert.Equal(new BreakGlassAccount("rescue", password), job.BreakGlass);
        Assert.Equal(900, job.Policy.HybridRegistrationWaitSeconds);
        Assert.DoesNotContain(Host.Logs.Lines, line => line.Contains(password, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_rejoin_from_a_source_without_a_break_glass_administrator_carries_none()
    {
        using var device = await Host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"));

        var job = await Host.RunAndPollAsync(device, "RejoinDomain");

        Assert.Null(job.BreakGlass);
    }

    [Fact]
    public async Task An_Entra_ID_offline_rejoin_carries_the_package_size_and_its_agent_downloads_the_package_with_its_lease_only()
    {
        var package = Encoding.UTF8.GetBytes("PKG-" + Guid.NewGuid().ToString("N") + new string('x', 5000));
        using var device = await Host.EnrollDeviceAsync(AgentWorld.EntraDestination());
        await Host.Client.UploadPackageAsync(device.DestinationId, package);
        var job = await Host.RunAndPollAsync(device, "RejoinDomain");

        Assert.Equal((JoinKind.EntraId, true, (long?)package.Length, (string?)null), (job.Join!.Kind, job.Join.Offline, job.Join.PackageBytes, job.Join.ProvisioningData));
        var download = await device.Agent.DownloadPackageAsync(job.JobId, "destination", job.LeaseToken);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal("application/octet-stream", download.Content.Headers.ContentType?.MediaType);
        Assert.Equal(package, await download.Content.ReadAsByteArrayAsync());

        Assert.Equal(HttpStatusCode.Conflict, (await device.Agent.DownloadPackageAsync(job.JobId, "destination", Guid.NewGuid())).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await device.Agent.DownloadPackageAsync(job.JobId, "destination", null)).StatusCode);
        foreach (var purpose in new[] { "elsewhere", "0", "destination,return" })
        {
            Assert.Equal(HttpStatusCode.BadRequest, (await device.Agent.DownloadPackageAsync(job.JobId, purpose, job.LeaseToken)).StatusCode);
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await Host.Anonymous.DownloadPackageAsync(job.JobId, "destination", job.LeaseToken)).StatusCode);
        // The source is Hybrid Identity: its way back is offline join data, not a package.
        Assert.Equal(HttpStatusCode.NotFound, (await device.Agent.DownloadPackageAsync(job.JobId, "return", job.LeaseToken)).StatusCode);
    }

    [Fact]
    public async Task An_Entra_ID_source_s_return_ticket_is_its_package_and_without_one_the_ticket_is_unavailable_saying_what_to_upload()
    {
        var entra = new { entraId = new { tenantId = Guid.NewGuid(), clientId = Guid.NewGuid(), clientSecret = "entra-secret-value", enabled = true } };
        using var device = await Host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"), sourceKind: "EntraId", source: entra);
        var job = await Host.RunAndPollAsync(device, "RejoinDomain");

        var missing = await (await device.Agent.AskReturnTicketAsync(job.JobId, Ask(job, device.DeviceName))).JsonAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal("ReturnTicketUnavailable", missing.GetProperty("rule").GetString());
        Assert.Contains("bulk enrollment provisioning package", missing.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var package = Encoding.UTF8.GetBytes("SOURCE-PKG-" + Guid.NewGuid().ToString("N"));
        await Host.Client.UploadPackageAsync(device.SourceId, package);
        var response = await device.Agent.AskReturnTicketAsync(job.JobId, Ask(job, device.DeviceName));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var ticket = (await response.Content.ReadFromJsonAsync<DestinationJoin>(AgentProtocol.JsonOptions))!;
        Assert.Equal((JoinKind.EntraId, true, (long?)package.Length, entra.entraId.tenantId.ToString()), (ticket.Kind, ticket.Offline, ticket.PackageBytes, ticket.TenantId));
        Assert.Equal(package, await (await device.Agent.DownloadPackageAsync(job.JobId, "return", job.LeaseToken)).Content.ReadAsByteArrayAsync());
    }
}

/// <summary>The return ticket when no directory is connected: refused with what to configure, never invented.</summary>
public sealed class ReturnTicketWithoutDirectoryTests(SqliteServer server) : IClassFixture<SqliteServer>
{
    [Fact]
    public async Task Without_a_connected_directory_a_return_ticket_is_unavailable_with_422_and_the_reason()
    {
        // An Entra ID destination needs no preparation, so the rejoin starts although no directory is connected.
        using var device = await server.Host.EnrollDeviceAsync(AgentWorld.EntraDestination());
        var job = await server.Host.RunAndPollAsync(device, "RejoinDomain");

        var response = await device.Agent.AskReturnTicketAsync(job.JobId,
            new ReturnTicketRequest(job.LeaseToken, device.DeviceName, DeviceJoinType.HybridEntraId, "contoso.example", null));

        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.JsonAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal("ReturnTicketUnavailable", problem.GetProperty("rule").GetString());
        Assert.Contains("No directory is connected", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}

/// <summary>The return ticket while the source domain controller does not answer: come back later, not a failure.</summary>
public sealed class ReturnTicketDuringAnOutageTests : IAsyncLifetime
{
    private ServerHost host = null!;

    public async Task InitializeAsync() => host = await ServerHost.StartAsync(StoreProvider.Sqlite, new() { ["Rehome:Directories:Mode"] = "Connected" });

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task An_unreachable_source_domain_controller_answers_503_with_Retry_After_and_audits_nothing()
    {
        // Nothing listens on 127.0.0.9: the source's DC is down. The Entra ID destination needs no preparation.
        using var device = await host.EnrollDeviceAsync(AgentWorld.EntraDestination(), source: new
        {
            domainDnsName = "contoso.example",
            domainController = "127.0.0.9",
            serviceAccountName = "svc-rehome@contoso.example",
            serviceAccountPassword = "Service-Account-Pa55",
        });
        var job = await host.RunAndPollAsync(device, "RejoinDomain");

        var response = await device.Agent.AskReturnTicketAsync(job.JobId,
            new ReturnTicketRequest(job.LeaseToken, device.DeviceName, DeviceJoinType.HybridEntraId, "contoso.example", null));

        var problem = await response.JsonAsync(HttpStatusCode.ServiceUnavailable);
        Assert.Equal("DirectoryUnavailable", problem.GetProperty("rule").GetString());
        Assert.True(int.Parse(response.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
        await using var scope = host.Scope();
        Assert.False(await scope.ServiceProvider.GetRequiredService<RehomeDbContext>().AuditLog.AnyAsync(a => a.Target == $"job:{job.JobId}"));
    }
}
