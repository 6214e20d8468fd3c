using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Rehome.Core.Agents;
using Rehome.Core.Connections;
using Rehome.Core.Validation;
using Rehome.Protocol;
using Rehome.Server.AgentUpdates;
using Rehome.Server.Audit;
using Rehome.Server.Store;

namespace Rehome.Server.Administration;

/// <summary>An uploaded agent package as administrators see it; <see cref="Connections"/> are the source connections that run it instead of the current one.</summary>
public sealed record AgentPackageView(
    Guid Id, string Version, long SizeBytes, string Sha256, string PublisherKey, string UploadedBy, DateTimeOffset UploadedAt, bool IsCurrent,
    IReadOnlyList<Guid> Connections);

/// <summary>How many active agents run a version.</summary>
public sealed record AgentVersionCount(string Version, int Agents);

/// <summary>
/// The fleet against the versions it should run (the current one, or its connection's): <see cref="OnTarget"/>
/// agents run it, <see cref="Older"/> run an older one, <see cref="Other"/> a newer or an unreadable one.
/// Without any target every agent counts as <see cref="Other"/>.
/// </summary>
public sealed record FleetVersionsView(string? CurrentVersion, int OnTarget, int Older, int Other, IReadOnlyList<AgentVersionCount> ByVersion);

public sealed record AgentPackagesView(IReadOnlyList<AgentPackageView> Packages, FleetVersionsView Fleet);

/// <summary>Marks the version agents should run: <c>packageId</c> null clears it; <c>connectionId</c> set marks it for that source connection's agents only.</summary>
public sealed record SetCurrentAgentPackage(Guid? PackageId, Guid? ConnectionId);

/// <summary>Agent packages: upload (signature checked), list with the fleet's versions, which one agents run, removal. For the API and the console.</summary>
public sealed class AgentUpdateCommands(RehomeDbContext db, IOptions<AgentUpdateOptions> options, AuditTrail audit, TimeProvider time)
{
    public long MaxPackageBytes => options.Value.MaxPackageBytes;

    public static Failure TooLarge(long max) => new(StatusCodes.Status413PayloadTooLarge, "Package too large", Failure.TypeBase + "package-too-large",
        "PackageTooLarge", $"An agent package is at most {max / (1024 * 1024)} MiB (Rehome:AgentUpdates:MaxPackageBytes).",
        [new RuleViolation("package", "PackageTooLarge", $"An agent package is at most {max} bytes.")]);

    public async Task<Outcome<AgentPackageView>> UploadAsync(string? version, string? signature, byte[] content, CancellationToken ct)
    {
        var keys = options.Value.ReadKeys();
        if (keys.Count == 0)
        {
            return Failure.ByRule(StatusCodes.Status409Conflict, "No publisher key", "NoPublisherKey",
                "The server trusts no publisher key, so it accepts no agent package: set Rehome:AgentUpdates:PublisherKeys to the publisher's PEM public key and restart.");
        }
        if (content.LongLength > options.Value.MaxPackageBytes)
        {
            return TooLarge(options.Value.MaxPackageBytes);
        }
        var (accepted, violations) = AgentPackageRules.Check(version, signature, content, keys);
        if (accepted is null)
        {
            return Failure.Validation(violations);
        }
        if (await db.AgentPackages.AnyAsync(p => p.Version == version, ct))
        {
            return Failure.Conflict("AgentVersionExists", $"A package of version {version} exists; upload another version or delete it first.");
        }
        var package = new AgentPackage
        {
            Id = Guid.CreateVersion7(time.GetUtcNow()),
            Version = version!,
            SizeBytes = content.LongLength,
            Sha256 = accepted.Sha256,
            Signature = signature!.Trim(),
            PublisherKey = accepted.PublisherKey,
            UploadedBy = audit.Actor,
            UploadedAt = time.GetUtcNow(),
        };
        db.AgentPackages.Add(package);
        db.AgentPackageContents.Add(new AgentPackageContent { PackageId = package.Id, Content = content });
        audit.Record("agent-package.upload", $"agent-package/{package.Id}", $"version {package.Version}, {package.SizeBytes} bytes, SHA-256 {package.Sha256}, signed by {package.PublisherKey}");
        await db.SaveChangesAsync(ct);
        return View(package, []);
    }

    public async Task<AgentPackagesView> ListAsync(CancellationToken ct)
    {
        var packages = await db.AgentPackages.AsNoTracking().OrderByDescending(p => p.UploadedAt).ToListAsync(ct);
        var targets = await db.AgentPackageTargets.AsNoTracking().ToListAsync(ct);
        var views = packages.Select(p => View(p, [.. targets.Where(t => t.PackageId == p.Id).Select(t => t.ConnectionId)])).ToList();
        return new AgentPackagesView(views, await FleetAsync(packages, targets, ct));
    }

    /// <summary>Active agents (not revoked, not held) by connection and version, against the version each should run.</summary>
    private async Task<FleetVersionsView> FleetAsync(List<AgentPackage> packages, List<AgentPackageTarget> targets, CancellationToken ct)
    {
        var counts = await db.Agents.AsNoTracking().Where(a => a.RevokedAt == null && a.Approval == AgentApproval.Active)
            .GroupBy(a => new { a.ConnectionId, a.AgentVersion }).Select(g => new { g.Key.ConnectionId, g.Key.AgentVersion, Count = g.Count() }).ToListAsync(ct);
        var current = packages.FirstOrDefault(p => p.IsCurrent)?.Version;
        var byConnection = targets.ToDictionary(t => t.ConnectionId, t => packages.FirstOrDefault(p => p.Id == t.PackageId)?.Version);
        int onTarget = 0, older = 0, other = 0;
        foreach (var row in counts)
        {
            var target = byConnection.GetValueOrDefault(row.ConnectionId) ?? current;
            var order = target is null || !AgentVersions.IsValid(row.AgentVersion) ? (int?)null : AgentVersions.Compare(row.AgentVersion, target);
            if (order == 0)
            {
                onTarget += row.Count;
            }
            else if (order < 0)
            {
                older += row.Count;
            }
            else
            {
                other += row.Count;
            }
        }
        var byVersion = counts.GroupBy(c => c.AgentVersion).Select(g => new AgentVersionCount(g.Key, g.Sum(c => c.Count)))
            .OrderByDescending(v => v.Version, Comparer<string>.Create(AgentVersions.Compare)).ToList();
        return new FleetVersionsView(current, onTarget, older, other, byVersion);
    }

    public async Task<Outcome<bool>> SetCurrentAsync(SetCurrentAgentPackage? request, CancellationToken ct)
    {
        if (request is null)
        {
            return Failure.Validation("packageId", "Required", "The body names the package (packageId, null to clear) and optionally the source connection (connectionId).");
        }
        AgentPackage? package = null;
        if (request.PackageId is { } packageId && (package = await db.AgentPackages.FirstOrDefaultAsync(p => p.Id == packageId, ct)) is null)
        {
            return Failure.Validation("packageId", "UnknownPackage", $"Agent package {packageId} does not exist.");
        }
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        if (request.ConnectionId is { } connectionId)
        {
            var connection = await db.Connections.AsNoTracking().FirstOrDefaultAsync(c => c.Id == connectionId, ct);
            if (connection is null || connection.Role != ConnectionRole.Source)
            {
                return Failure.Validation("connectionId", "UnknownSourceConnection", $"Connection {connectionId} is not a source connection (agents enroll with a source's key).");
            }
            await db.AgentPackageTargets.Where(t => t.ConnectionId == connectionId).ExecuteDeleteAsync(ct);
            if (package is not null)
            {
                db.AgentPackageTargets.Add(new AgentPackageTarget { ConnectionId = connectionId, PackageId = package.Id });
            }
            audit.Record("agent-package.current", $"connection/{connectionId}",
                package is null ? $"{connection.Name}: the current version" : $"{connection.Name}: version {package.Version}");
        }
        else
        {
            // Cleared first: the store keeps one current package at most.
            await db.AgentPackages.Where(p => p.IsCurrent).ExecuteUpdateAsync(s => s.SetProperty(p => p.IsCurrent, false), ct);
            if (package is not null)
            {
                package.IsCurrent = true;
            }
            audit.Record("agent-package.current", package is null ? "agent-package" : $"agent-package/{package.Id}",
                package is null ? "no current version: agents keep theirs" : $"version {package.Version}");
        }
        await db.SaveChangesAsync(ct);
        await transaction.CommitRegardlessAsync();
        return true;
    }

    public async Task<Outcome<bool>> DeleteAsync(Guid id, CancellationToken ct)
    {
        var package = await db.AgentPackages.FirstOrDefaultAsync(p => p.Id == id, ct);
        if (package is null)
        {
            return Failure.NotFound($"Agent package {id}");
        }
        if (package.IsCurrent || await db.AgentPackageTargets.AnyAsync(t => t.PackageId == id, ct))
        {
            return Failure.Conflict("AgentPackageInUse", $"Version {package.Version} is what agents should run; mark another (or none) first.");
        }
        db.AgentPackages.Remove(package);
        audit.Record("agent-package.delete", $"agent-package/{id}", $"version {package.Version}");
        await db.SaveChangesAsync(ct);
        return true;
    }

    private static AgentPackageView View(AgentPackage p, IReadOnlyList<Guid> connections) =>
        new(p.Id, p.Version, p.SizeBytes, p.Sha256, p.PublisherKey, p.UploadedBy, p.UploadedAt, p.IsCurrent, connections);
}

/// <summary>The fleet's versions in one sentence, for the console ("12 agents on 2.1.0, 3 on older versions").</summary>
public static class FleetSummary
{
    public static string Of(FleetVersionsView fleet)
    {
        var total = fleet.OnTarget + fleet.Older + fleet.Other;
        if (fleet.CurrentVersion is null)
        {
            return $"{total} agent(s); no current version is set, so agents keep theirs: "
                + string.Join(", ", fleet.ByVersion.Select(v => $"{v.Agents} on {(v.Version.Length == 0 ? "an unreported version" : v.Version)}")) + ".";
        }
        return $"{fleet.OnTarget} agent(s) on {fleet.CurrentVersion}" + (fleet.Older > 0 ? $", {fleet.Older} on older versions" : "")
            + (fleet.Other > 0 ? $", {fleet.Other} on other versions" : "") + " (agents of a connection with its own version count against it).";
    }
}
