using Microsoft.EntityFrameworkCore;
using Rehome.Core.Validation;
using Rehome.Protocol;
using Rehome.Server.Administration;
using Rehome.Server.Api;
using Rehome.Server.Audit;
using Rehome.Server.Gateway;
using Rehome.Server.Store;

namespace Rehome.Server.AgentUpdates;

/// <summary>
/// The package bytes this server read last: when a fleet updates, thousands of agents download the same package,
/// and each download must not load its tens of megabytes from the store again.
/// </summary>
public sealed class AgentPackageCache
{
    private volatile Tuple<Guid, byte[]>? last;

    public async Task<byte[]?> GetAsync(Guid packageId, Func<Task<byte[]?>> load)
    {
        if (last is { } held && held.Item1 == packageId)
        {
            return held.Item2;
        }
        var content = await load();
        if (content is not null)
        {
            last = Tuple.Create(packageId, content);
        }
        return content;
    }
}

/// <summary>
/// The agents' side of updates: which version an agent should run (its connection's, or the current one), the
/// package's bytes for the agent that should run it, and the agent's report of how the update went.
/// </summary>
public sealed class AgentUpdateGateway(RehomeDbContext db, AgentPackageCache cache, AuditTrail audit, TimeProvider time, ILogger<AgentUpdateGateway> logger)
{
    public async Task<AgentUpdateOffer?> OfferAsync(AgentEntry agent, CancellationToken ct)
    {
        var package = await TargetOf(agent.ConnectionId).FirstOrDefaultAsync(ct);
        return package is null ? null : new AgentUpdateOffer(package.Id, package.Version, package.SizeBytes, package.Sha256, package.Signature);
    }

    /// <summary>The bytes of the package this agent should run; any other package is not found (agents have no business with it).</summary>
    public async Task<Outcome<byte[]>> ContentAsync(AgentEntry agent, Guid packageId, CancellationToken ct)
    {
        var target = await TargetOf(agent.ConnectionId).Select(p => (Guid?)p.Id).FirstOrDefaultAsync(ct);
        if (target != packageId)
        {
            return Failure.NotFound($"Agent package {packageId}");
        }
        var content = await cache.GetAsync(packageId, () => db.AgentPackageContents.AsNoTracking()
            .Where(c => c.PackageId == packageId).Select(c => c.Content).FirstOrDefaultAsync(ct));
        return content is null ? Failure.NotFound($"Agent package {packageId}") : content;
    }

    public async Task<Outcome<bool>> ReportAsync(Guid agentId, AgentUpdateReport? report, CancellationToken ct)
    {
        var violations = new RuleViolations();
        if (report is null)
        {
            violations.Add("body", "Required", "The report is required.");
        }
        else
        {
            if (!AgentVersions.IsValid(report.FromVersion))
            {
                violations.Add("fromVersion", "AgentVersionFormat", "The version is two to four dot-separated numbers.");
            }
            if (!AgentVersions.IsValid(report.ToVersion))
            {
                violations.Add("toVersion", "AgentVersionFormat", "The version is two to four dot-separated numbers.");
            }
            if (!Enum.IsDefined(report.Outcome))
            {
                violations.Add("outcome", "UnknownOutcome", "The outcome is Updated, RolledBack or Refused.");
            }
            if (report.Message is { Length: > AgentProtocol.MaxMessageLength })
            {
                violations.Add("message", "TooLong", $"The message is at most {AgentProtocol.MaxMessageLength} characters.");
            }
        }
        if (violations.Any)
        {
            return Failure.Validation(violations.Items);
        }
        var agent = await db.Agents.FirstAsync(a => a.Id == agentId, ct);
        agent.UpdateOutcome = report!.Outcome.ToString();
        agent.UpdateMessage = $"{report.FromVersion} → {report.ToVersion}" + (report.Message is { Length: > 0 } m ? ": " + m : "");
        agent.UpdateReportedAt = time.GetUtcNow();
        audit.ActAs($"agent/{agentId}");
        audit.Record(report.Outcome switch
        {
            AgentUpdateOutcome.Updated => "agent.update.updated",
            AgentUpdateOutcome.RolledBack => "agent.update.rolled-back",
            _ => "agent.update.refused",
        }, $"agent/{agentId}", $"{agent.DeviceName}: {agent.UpdateMessage}");
        if (report.Outcome != AgentUpdateOutcome.Updated)
        {
            logger.LogWarning("Agent {AgentId} reports its update from {FromVersion} to {ToVersion}: {Outcome}", agentId, report.FromVersion, report.ToVersion, report.Outcome);
        }
        await db.SaveChangesRegardlessAsync();
        return true;
    }

    /// <summary>The connection's own package if it has one, otherwise the current one.</summary>
    private IQueryable<AgentPackage> TargetOf(Guid connectionId) =>
        db.AgentPackageTargets.Where(t => t.ConnectionId == connectionId).Join(db.AgentPackages, t => t.PackageId, p => p.Id, (_, p) => p)
            .Concat(db.AgentPackages.Where(p => p.IsCurrent && !db.AgentPackageTargets.Any(t => t.ConnectionId == connectionId)));
}

/// <summary>Wires agent updates into the server.</summary>
public static class AgentUpdateExtensions
{
    /// <summary>Maps <c>/agent/v1/update</c>: the offer (204 when no version is set), the package, the report.</summary>
    public static IEndpointRouteBuilder MapAgentUpdateGateway(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(AgentProtocol.BasePath + "/update").WithTags("Agent gateway")
            .RequireAuthorization(AgentAuthenticationHandler.PolicyName).AddEndpointFilter<GatewayStoreLaneFilter>();
        group.MapGet("", async (HttpContext http, AgentUpdateGateway updates, CancellationToken ct) =>
            await updates.OfferAsync(http.Agent(), ct) is { } offer ? Results.Ok(offer) : Results.NoContent()).WithName("GetAgentUpdate");
        group.MapGet("/{packageId:guid}", async (Guid packageId, HttpContext http, AgentUpdateGateway updates, CancellationToken ct) =>
            (await updates.ContentAsync(http.Agent(), packageId, ct)).ToResult(content => Results.File(content, "application/zip"))).WithName("DownloadAgentUpdate");
        group.MapPost("/report", async (AgentUpdateReport? report, HttpContext http, AgentUpdateGateway updates, CancellationToken ct) =>
            (await updates.ReportAsync(http.Agent().AgentId, report, ct)).ToResult(_ => Results.NoContent())).WithName("ReportAgentUpdate");
        return app;
    }

    /// <summary>Agent packages: settings, the commands, the gateway's part, the cache.</summary>
    public static IServiceCollection AddRehomeAgentUpdates(this IServiceCollection services, IConfiguration configuration)
    {
        Hosting.Settings.AddSettings<AgentUpdateOptions>(services, configuration, AgentUpdateOptions.Section);
        services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<AgentUpdateOptions>, AgentUpdateOptionsRules>();
        services.AddSingleton<AgentPackageCache>();
        services.AddScoped<AgentUpdateGateway>();
        services.AddScoped<AgentUpdateCommands>();
        return services;
    }
}
