using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Rehome.Protocol;
using Rehome.Server.Administration;
using Rehome.Server.AgentUpdates;
using Rehome.Server.Api;
using Rehome.Server.Audit;
using Rehome.Server.Auth;
using Rehome.Server.Console;
using Rehome.Server.Directories;
using Rehome.Server.Gateway;
using Rehome.Server.Mappings;
using Rehome.Server.Notifications;
using Rehome.Server.Observability;
using Rehome.Server.Replicas;
using Rehome.Server.Reports;
using Rehome.Server.Runs;
using Rehome.Server.Secrets;
using Rehome.Server.Store;

namespace Rehome.Server.Hosting;

/// <summary>
/// Builds the Rehome server: used by Program.cs, by the CLI's local demo, and by tests, so all three run the
/// same host.
/// </summary>
public static class RehomeServer
{
    private const string AuthenticationMiddlewareSetKey = "__AuthenticationMiddlewareSet";

    public static WebApplicationBuilder CreateBuilder(string[] args)
    {
        // The application is the server wherever it is hosted (its own Program, the CLI's rehearsal, tests), so the
        // console's static files are found by the server's name.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ApplicationName = typeof(RehomeServer).Assembly.GetName().Name });
        // Outside a published folder the console's files are found through the build's manifest (a no-op when published).
        builder.WebHost.UseStaticWebAssets();
        builder.Services.AddRehomeServices(builder.Configuration);
        return builder;
    }

    public static IServiceCollection AddRehomeServices(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(TimeProvider.System);
        services.AddRehomeObservability(configuration);
        services.AddRehomeStore(configuration);
        services.AddRehomeReplicas(configuration);
        services.AddRehomeSecrets(configuration);
        // Not IHttpContextAccessor, which would cost every request a new HttpContext (CurrentRequest says why).
        services.AddSingleton<CurrentRequest>();
        services.AddScoped<AuditTrail>();
        services.AddScoped<MappingImporter>();
        services.AddScoped<MappingTransfer>();
        services.AddScoped<MappingList>();
        services.AddSingleton<MappingCounts>();
        services.AddScoped<ReportQueries>();
        services.AddScoped<ConnectionCommands>();
        services.AddScoped<PolicyCommands>();
        services.AddScoped<ProjectCommands>();
        services.AddScoped<MappingCommands>();
        services.AddScoped<AccountCommands>();
        services.AddScoped<AgentCommands>();
        services.AddScoped<RunCommands>();
        services.AddScoped<DirectoryCommands>();
        services.AddScoped<NotificationCommands>();
        services.AddScoped<CleanupCommands>();
        services.AddScoped<ArchiveCommands>();
        services.AddScoped<StoreCommands>();
        services.AddScoped<MappingSummaries>();
        services.AddScoped<RunItemStore>();
        services.AddScoped<JobTransitions>();
        services.AddScoped<SummaryCatchUp>();
        services.AddScoped<RunEngine>();
        services.AddSettings<RunEngineOptions>(configuration, RunEngineOptions.Section);
        services.AddSettings<ImportOptions>(configuration, ImportOptions.Section);
        services.AddSingleton<FirstRunSetup>();
        services.AddSettings<BootstrapOptions>(configuration, BootstrapOptions.Section);
        services.AddSettings<TokenOptions>(configuration, TokenOptions.Section);
        services.AddScoped<DestinationPreparer>();
        services.AddSingleton<ReportPace>();
        services.AddSingleton<RenewalsWaiting>();
        services.AddSingleton<RunEngineService>();
        services.AddRehomeGateway(configuration);
        services.AddRehomeDirectories(configuration);
        services.AddRehomeNotifications(configuration);
        services.AddRehomeAgentUpdates(configuration);
        services.AddHostedService(sp => sp.GetRequiredService<RunEngineService>());
        services.AddSingleton<StoreStatistics>();
        services.AddHostedService(sp => sp.GetRequiredService<StoreStatistics>());

        services.AddAuthentication(BearerTokenAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, BearerTokenAuthenticationHandler>(BearerTokenAuthenticationHandler.SchemeName, null)
            .AddScheme<AuthenticationSchemeOptions, AgentAuthenticationHandler>(AgentAuthenticationHandler.SchemeName, null);
        // Every endpoint declares the least role it needs (RequireRole) or that it is open (sign-in, enrollment);
        // one that declares nothing is refused to everybody. The agent gateway requires an agent instead, and
        // agents' credentials open nothing else.
        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(RoleAuthorization.DenyUndeclared(BearerTokenAuthenticationHandler.SchemeName))
            .AddPolicy(AgentAuthenticationHandler.PolicyName, new AuthorizationPolicyBuilder(AgentAuthenticationHandler.SchemeName).RequireAuthenticatedUser().Build())
            .AddRolePolicies(BearerTokenAuthenticationHandler.SchemeName);
        // One evaluator and one result handler for the server instead of two objects a request: the evaluator decides
        // agent-only policies from the agent's cached answer and hands everything else to the framework's.
        services.Replace(ServiceDescriptor.Singleton<IPolicyEvaluator, GatewayPolicyEvaluator>());
        services.Replace(ServiceDescriptor.Singleton<IAuthorizationMiddlewareResultHandler, AuthorizationMiddlewareResultHandler>());

        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            // Sign-in guesses passwords' worth: a few a minute per client address is plenty for people and scripts.
            o.AddPolicy(AuthApi.SignInRateLimit, context => System.Threading.RateLimiting.RateLimitPartition.GetFixedWindowLimiter(
                context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                _ => new System.Threading.RateLimiting.FixedWindowRateLimiterOptions
                {
                    PermitLimit = configuration.GetValue("Rehome:Auth:SignInsPerMinute", 10),
                    Window = ServerTimings.RateLimitWindow,
                    QueueLimit = 0,
                }));
            o.AddPolicy(AgentGatewayApi.EnrollmentRateLimit, context => System.Threading.RateLimiting.RateLimitPartition.GetFixedWindowLimiter(
                context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                _ => new System.Threading.RateLimiting.FixedWindowRateLimiterOptions
                {
                    PermitLimit = configuration.GetValue($"{GatewayOptions.Section}:EnrollmentsPerMinute", new GatewayOptions().EnrollmentsPerMinute),
                    Window = ServerTimings.RateLimitWindow,
                    QueueLimit = 0,
                }));
        });
        services.AddProblemDetails(o => o.CustomizeProblemDetails = BadRequestHandler.Complete);
        services.AddExceptionHandler<UniqueViolationHandler>();
        // Binding failures throw, so that BadRequestHandler answers them with the field at fault (not a bare 400).
        services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddExceptionHandler<BadRequestHandler>();
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
            // {"name": "a", "name": "b"} is ambiguous: which one a check saw and which one was stored must not differ.
            o.SerializerOptions.AllowDuplicateProperties = false;
        });
        services.AddOpenApi(o => o.AddRoleSecurity());
        services.AddRehomeConsole();
        services.AddRehomeSingleSignOn(configuration);
        return services;
    }

    /// <summary>A call of the agent gateway (<c>/agent/v1/…</c>) that carries an agent's credential.</summary>
    internal static bool IsAgentGatewayCall(HttpRequest request) =>
        request.Path.StartsWithSegments(AgentProtocol.BasePath, StringComparison.Ordinal) && AgentCredentialCheck.CarriesAgentCredential(request);

    /// <summary>Migrates the store, creates the first administrator, and maps every endpoint.</summary>
    public static async Task<WebApplication> BuildAsync(WebApplicationBuilder builder, CancellationToken cancellationToken = default)
    {
        var app = builder.Build();
        await StoreStartup.PrepareAsync(app.Services, cancellationToken);

        CurrentRequest.UseCurrentRequest(app);
        app.UseSecurityHeaders();
        // A remembered agent's long poll is answered from here (the rest of the pipeline only allocates for it); its
        // failures and refusals are answered by the same exception handler and status-code pages as below.
        app.UseAgentPollFastLane();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseRateLimiter();
        // The default scheme (bearer tokens, the console's cookie) means nothing to a call of the agent gateway with an
        // agent's credential, whose endpoints authenticate the agent scheme themselves (their policy names it): not run
        // for them, it costs a long poll no authentication service, handler provider or bearer handler.
        app.UseWhen(static context => !IsAgentGatewayCall(context.Request), static branch => branch.UseAuthentication());
        // UseAuthentication marks the builder it is called on; a branch's mark does not reach this one, and unmarked,
        // the host would add authentication again in front of everything (WebApplicationBuilder's key, not public).
        ((IApplicationBuilder)app).Properties[AuthenticationMiddlewareSetKey] = true;
        app.UseAuthorization();
        app.UseProjectLimits();
        app.UseAntiforgery();

        app.MapHealth();
        app.MapOpenApi().RequireSignedIn();
        var api = app.MapGroup("/api/v1");
        api.MapAuthApi()
            .MapAccountsApi()
            .MapConnectionsApi()
            .MapPoliciesApi()
            .MapProjectsApi()
            .MapMappingsApi()
            .MapRunsApi()
            .MapAgentsApi()
            .MapDirectoriesApi()
            .MapAuditApi()
            .MapNotificationsApi()
            .MapReportsApi()
            .MapCleanupApi()
            .MapAgentPackagesApi();
        app.MapAgentGateway();
        app.MapAgentUpdateGateway();
        app.MapRehomeConsole();
        app.MapConsoleReports();
        app.MapConsoleArchives();
        app.MapSingleSignOn();
        app.MapRehomeMetrics();
        return app;
    }
}
