using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;
using Rehome.Server.Observability;
using Rehome.Server.Runs;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Observability;

/// <summary>
/// A server with a metrics token, the simulated directory and an in-memory trace exporter: what a scraper and a
/// trace collector would see of a run.
/// </summary>
public sealed class TelemetryServer : IAsyncLifetime
{
    public const string Token = "test-metrics-token-7f3c2a9e41d84b0c";

    public static string TokenHash => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Token)));

    public ServerHost Host { get; private set; } = null!;

    /// <summary>Every span of the Rehome source and of ASP.NET Core this process recorded (other servers' too: filter by id).</summary>
    public List<Activity> Spans { get; } = [];

    public async Task InitializeAsync() => Host = await ServerHost.StartAsync(StoreProvider.Sqlite, new()
    {
        ["Rehome:Directories:Mode"] = "Simulated",
        ["Rehome:Gateway:EnrollmentsPerMinute"] = "10000",
        ["Rehome:Metrics:TokenHash"] = TokenHash,
        [ObservabilityServiceCollectionExtensions.TracesSetting] = "true",
    }, services => services.ConfigureOpenTelemetryTracerProvider(t => t.AddInMemoryExporter(Spans)));

    public async Task DisposeAsync() => await Host.DisposeAsync();
}

public sealed class TelemetryTests(TelemetryServer server) : IClassFixture<TelemetryServer>
{
    private ServerHost Host => server.Host;

    [Fact]
    public async Task A_scrape_with_the_metrics_token_counts_a_run_its_lease_its_directory_call_and_the_polls()
    {
        using var device = await Host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"));
        using var idle = await Host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"));
        var before = await ScrapeAsync();

        var job = await Host.RunAndPollAsync(device, "RejoinDomain");
        // The agent polls again without the job (the answer lost): the lease is sent again, counted apart.
        var again = await device.Agent.PostAsync(new Uri("/agent/v1/poll?wait=0", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var empty = await idle.Agent.PostAsync(new Uri("/agent/v1/poll?wait=0", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.NoContent, empty.StatusCode);
        var after = await ScrapeAsync();

        Assert.Equal(1, Moved(before, after, "rehome_runs_started_total", ("rehome_run_how", "start")));
        Assert.Equal(1, Moved(before, after, "rehome_jobs_created_total"));
        Assert.Equal(1, Moved(before, after, "rehome_leases_granted_total"));
        Assert.Equal(1, Moved(before, after, "rehome_leases_sent_again_total"));
        Assert.Equal(2, Moved(before, after, "rehome_gateway_poll_duration_seconds_count", ("rehome_poll_job", "true")));
        Assert.Equal(1, Moved(before, after, "rehome_gateway_poll_duration_seconds_count", ("rehome_poll_job", "false")));
        Assert.Equal(1, Moved(before, after, "rehome_directory_calls_total", ("rehome_directory_operation", "PrepareDestination"), ("rehome_directory_outcome", "ok")));
        Assert.NotEqual(Guid.Empty, job.JobId);
    }

    [Fact]
    public async Task A_lease_that_runs_out_is_counted_by_what_became_of_its_job()
    {
        using var device = await Host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"));
        await Host.RunAndPollAsync(device, "RejoinDomain");
        var before = await ScrapeAsync();

        Host.Time.Advance(new RunEngineOptions().LeaseDuration + TimeSpan.FromMinutes(1));
        await using (var scope = Host.Scope())
        {
            await scope.ServiceProvider.GetRequiredService<RunEngineService>().TickAsync(CancellationToken.None);
        }
        var after = await ScrapeAsync();

        Assert.Equal(1, Moved(before, after, "rehome_leases_lapsed_total", ("rehome_job_status", "WaitingToStart")));
    }

    [Fact]
    public async Task The_store_gauges_show_jobs_by_status_and_the_agents_online_once_their_interval_has_passed()
    {
        using var device = await Host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"));
        // A fresh read to start from (an earlier scrape's may still be within its interval).
        Host.Time.Advance(new MetricsOptions().StoreReadInterval);
        var before = await ScrapeAsync();

        await Host.RunAndPollAsync(device, "RejoinDomain");
        var cached = await ScrapeAsync();
        Host.Time.Advance(new MetricsOptions().StoreReadInterval);
        var after = await ScrapeAsync();

        Assert.Equal(0, Moved(before, cached, "rehome_jobs", ("rehome_job_status", "InProgress")));
        Assert.Equal(1, Moved(before, after, "rehome_jobs", ("rehome_job_status", "InProgress")));
        Assert.True(after.Sum("rehome_agents_online") >= 1, after.Text);
        Assert.True(after.Has("http_server_request_duration_seconds_count"), "ASP.NET Core's request metrics are exported too");
        Assert.True(after.Has("dotnet_process_memory_working_set_bytes"), "The runtime's memory is exported too");
    }

    [Fact]
    public async Task A_run_start_and_its_lease_are_traced_with_their_ids()
    {
        using var device = await Host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"));

        var job = await Host.RunAndPollAsync(device, "RejoinDomain");

        Activity[] spans;
        lock (server.Spans)
        {
            spans = [.. server.Spans];
        }
        var start = Assert.Single(spans, s => s.OperationName == "rehome.run.start" && Equals(s.GetTagItem(RehomeTelemetry.ProjectIdTag), device.ProjectId));
        Assert.Equal(job.RunId, start.GetTagItem(RehomeTelemetry.RunIdTag));
        Assert.Equal(1, start.GetTagItem("rehome.run.jobs"));
        var lease = Assert.Single(spans, s => s.OperationName == "rehome.lease.batch"
            && s.Events.Any(e => Equals(e.Tags.FirstOrDefault(t => t.Key == RehomeTelemetry.JobIdTag).Value, job.JobId)));
        Assert.Contains(lease.Events, e => Equals(e.Tags.FirstOrDefault(t => t.Key == RehomeTelemetry.AgentIdTag).Value, device.AgentId));
        var preparation = Assert.Single(spans, s => s.OperationName == "rehome.directory.call" && Equals(s.GetTagItem(RehomeTelemetry.JobIdTag), job.JobId));
        Assert.Equal(device.MappingId, preparation.GetTagItem(RehomeTelemetry.MappingIdTag));
        Assert.Equal("rehome.destination.preparation", preparation.Parent?.OperationName);
        Assert.Contains(spans, s => s.Kind == ActivityKind.Server && s.GetTagItem("url.path") is "/agent/v1/poll");
    }

    [Fact]
    public async Task The_metrics_endpoint_refuses_a_scrape_without_the_metrics_token_and_with_any_other_credential()
    {
        using var device = await Host.EnrollDeviceAsync(AgentWorld.ActiveDirectoryDestination("Offline"));
        var administrator = Host.Client.DefaultRequestHeaders.Authorization!;
        var agent = device.Agent.DefaultRequestHeaders.Authorization!;

        foreach (var credential in new AuthenticationHeaderValue?[] { null, administrator, agent, new("Bearer", Token + "x"), new("Bearer", TelemetryServer.TokenHash) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
            request.Headers.Authorization = credential;
            using var response = await Host.Anonymous.SendAsync(request);

            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{credential?.Scheme ?? "no credential"}: {(int)response.StatusCode}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.DoesNotContain("rehome_", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_metrics_token_opens_nothing_but_the_metrics()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/projects");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);

        using var response = await Host.Anonymous.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private const string Token = TelemetryServer.Token;

    private Task<MetricsScrape> ScrapeAsync() => MetricsScrape.TakeAsync(Host.Anonymous, Token);

    private static double Moved(MetricsScrape before, MetricsScrape after, string name, params (string, string)[] labels) =>
        after.Sum(name, labels) - before.Sum(name, labels);
}

/// <summary>What an operator's settings do to <c>/metrics</c>: open it to anybody, or stop a server whose token hash is not one.</summary>
public sealed class MetricsSettingsTests
{
    [Fact]
    public async Task Metrics_are_served_without_a_credential_only_when_the_operator_allows_it()
    {
        await using var open = await ServerHost.StartAsync(StoreProvider.Sqlite, new() { ["Rehome:Metrics:AllowAnonymous"] = "true" });
        await using var closed = await ServerHost.StartAsync(StoreProvider.Sqlite);

        using var served = await open.Anonymous.GetAsync(new Uri("/metrics", UriKind.Relative));
        using var refused = await closed.Anonymous.GetAsync(new Uri("/metrics", UriKind.Relative));
        using var refusedWithAdministrator = await closed.Client.GetAsync(new Uri("/metrics", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Contains("rehome_jobs", await served.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, refusedWithAdministrator.StatusCode);
    }

    [Fact]
    public async Task A_metrics_token_hash_that_is_not_a_SHA_256_stops_the_server_at_start()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => ServerHost.StartAsync(StoreProvider.Sqlite, new() { ["Rehome:Metrics:TokenHash"] = "my-secret-token" }));

        Assert.Contains("Rehome:Metrics:TokenHash", error.Message, StringComparison.Ordinal);
    }
}
