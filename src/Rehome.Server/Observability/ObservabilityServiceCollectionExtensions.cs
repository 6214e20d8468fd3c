using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Rehome.Server.Observability;

/// <summary>
/// OpenTelemetry for the server: the Rehome meter and ASP.NET Core's, exported in the Prometheus format at
/// <see cref="MetricsPath"/> behind the metrics credential (<see cref="MetricsOptions"/>); traces of the Rehome
/// activity source and ASP.NET Core's requests, sent over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set.
/// </summary>
public static class ObservabilityServiceCollectionExtensions
{
    public const string MetricsPath = "/metrics";

    /// <summary>Records traces even without an OTLP endpoint (for an exporter added by the host, as the tests do).</summary>
    public const string TracesSetting = "Rehome:Telemetry:Traces";

    public static IServiceCollection AddRehomeObservability(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<MetricsOptions>().Bind(configuration.GetSection(MetricsOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        // The meters of this host only (its IMeterFactory's), by rules rather than the SDK's AddMeter, which
        // listens by name across the process: a second server in one process (tests, the CLI's rehearsal) would
        // report the first one's counts and lose its own when the first one stops.
        services.AddMetrics(metrics =>
        {
            // The memory pool's meter: the bytes Kestrel's pool holds and allocates (its 4 KB blocks, evicted when idle).
            foreach (var meter in (string[])[RehomeTelemetry.Name, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.MemoryPool"])
            {
                metrics.EnableMetrics(meter, scopes: MeterScope.Local);
            }
            // The runtime's meter (GC heap, working set, thread pool) is one per process whatever the hosts in it.
            metrics.EnableMetrics("System.Runtime", scopes: MeterScope.Global);
        });
        services.AddSingleton<StoreGauges>();
        services.AddSingleton<RehomeTelemetry>();
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, MetricsAuthenticationHandler>(MetricsAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder().AddPolicy(MetricsAuthenticationHandler.PolicyName,
            new AuthorizationPolicyBuilder(MetricsAuthenticationHandler.SchemeName).RequireAuthenticatedUser().Build());

        var otlp = !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"] ?? configuration["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]);
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("rehome-server", serviceVersion: typeof(RehomeTelemetry).Assembly.GetName().Version?.ToString()))
            .WithMetrics(m => m
                // Each scrape is collected afresh (the exporter would answer a repeat within 300 ms from its cache):
                // the costly gauges keep their own interval (StoreGauges).
                .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0));
        // Spans cost a little on every request: recorded only when something takes them.
        if (otlp || configuration.GetValue<bool>(TracesSetting))
        {
            telemetry.WithTracing(t =>
            {
                t.AddSource(RehomeTelemetry.Name)
                    .AddAspNetCoreInstrumentation(o => o.Filter = http => !http.Request.Path.StartsWithSegments(MetricsPath));
                if (otlp)
                {
                    // Endpoint, protocol and headers from the standard OTEL_EXPORTER_OTLP_* variables.
                    t.AddOtlpExporter();
                }
            });
        }
        return services;
    }

    /// <summary>
    /// Maps <see cref="MetricsPath"/>: the metrics credential, or nobody (401), or anybody when the operator said
    /// so (<see cref="MetricsOptions.AllowAnonymous"/>). Creates the instruments now, so the gauges are there from
    /// the first scrape.
    /// </summary>
    public static IEndpointRouteBuilder MapRehomeMetrics(this IEndpointRouteBuilder app)
    {
        app.ServiceProvider.GetRequiredService<RehomeTelemetry>();
        var endpoint = app.MapPrometheusScrapingEndpoint(MetricsPath).WithDisplayName("Prometheus metrics");
        if (app.ServiceProvider.GetRequiredService<IOptions<MetricsOptions>>().Value.AllowAnonymous)
        {
            endpoint.AllowAnonymous();
        }
        else
        {
            endpoint.RequireAuthorization(MetricsAuthenticationHandler.PolicyName);
        }
        return app;
    }
}
