using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Rehome.Core.Connections;
using Rehome.Core.Mappings;
using Rehome.Core.Runs;
using Rehome.Security.Sids;
using Rehome.Server.Directories.Connected;
using Rehome.Server.Gateway;
using Rehome.Server.Mappings;
using Rehome.Server.Store;

namespace Rehome.Server.Directories;

/// <summary>The mappings and jobs to check: explicit ids, or a filter (every mapping of the project when neither).</summary>
public sealed record ReadinessInput(List<JobKind>? Kinds, List<Guid>? MappingIds, MappingFilter? Filter);

public enum ReadinessOutcome
{
    Passed,

    /// <summary>The job can start, but something deserves a look (agent offline, little disk space left).</summary>
    Warning,

    /// <summary>The job would fail or wait: fix this first.</summary>
    Failed,
}

/// <summary>One check of one mapping.</summary>
public sealed record ReadinessItem(string Check, ReadinessOutcome Outcome, string Detail);

/// <summary>A mapping's checks; ready when none failed.</summary>
public sealed record MappingReadiness(Guid MappingId, string SourceDevice, string DestinationName, bool Ready, IReadOnlyList<ReadinessItem> Checks)
{
    /// <summary>The longest reasons kept on a mapping: the report holds them all.</summary>
    public const int MaxReasonsLength = 2000;

    /// <summary>What the grid shows: not ready when a check failed, warnings when one warned, else ready.</summary>
    public ReadinessState State =>
        !Ready ? ReadinessState.NotReady : Checks.Any(c => c.Outcome == ReadinessOutcome.Warning) ? ReadinessState.Warnings : ReadinessState.Ready;

    /// <summary>The checks that did not pass, one a line, cut at <see cref="MaxReasonsLength"/>; null when all passed.</summary>
    public string? Reasons
    {
        get
        {
            var lines = Checks.Where(c => c.Outcome != ReadinessOutcome.Passed).Select(c => $"{c.Check} ({c.Outcome}): {c.Detail}").ToList();
            var text = string.Join("\n", lines);
            return lines.Count == 0 ? null : text.Length <= MaxReasonsLength ? text : text[..(MaxReasonsLength - 1)] + "…";
        }
    }
}

/// <summary>A readiness (pre-analysis) report over a selection of mappings.</summary>
public sealed record ReadinessReport(
    IReadOnlyList<JobKind> Kinds, int MappingCount, int ReadyCount, int WarningCount, int NotReadyCount, IReadOnlyList<MappingReadiness> Mappings, DateTimeOffset CheckedAt);

/// <summary>Options of the readiness check. Bound from <c>Rehome:Readiness</c>.</summary>
public sealed class ReadinessOptions
{
    public const string Section = "Rehome:Readiness";

    /// <summary>Below this much free disk space a device is not ready (its journal and backups need room).</summary>
    [System.ComponentModel.DataAnnotations.Range(0L, 1L << 40)]
    public long MinimumFreeDiskSpaceBytes { get; set; } = 2L << 30;

    /// <summary>A bulk enrollment token expiring within this time gives a warning.</summary>
    [System.ComponentModel.DataAnnotations.Range(typeof(TimeSpan), "00:00:00", "365.00:00:00")]
    public TimeSpan TokenExpiryWarning { get; set; } = TimeSpan.FromDays(14);
}

/// <summary>
/// Checks selected mappings before a run, changing nothing: the device's agent (enrolled, online, disk
/// space), the destination computer (name free or reusable, OU present), whether every profile SID the agent
/// reported maps to the destination, and the Entra ID and Autopilot prerequisites of the chosen jobs.
/// </summary>
public sealed class ReadinessCheck(
    RehomeDbContext db, IMigrationDirectory directory, AgentRegistry registry, IOptions<GatewayOptions> gateway,
    IOptions<ReadinessOptions> options, TimeProvider time, StoreCommands store)
{
    /// <summary>Set once a directory did not answer: the remaining mappings are not checked against it (each would wait out its timeout).</summary>
    private string? unreachable;

    /// <summary>Most mappings one check covers; select fewer (a filter, a page) for larger projects.</summary>
    public const int MaxMappings = 20_000;

    /// <summary>The report, or null when the selection holds more than <see cref="MaxMappings"/> mappings.</summary>
    public async Task<ReadinessReport?> CheckAsync(Guid projectId, ReadinessInput input, CancellationToken ct)
    {
        var kinds = input.Kinds is { Count: > 0 } chosen ? chosen.Distinct().Order().ToList() : [.. Enum.GetValues<JobKind>()];
        var query = (await db.MappingsOfAsync(projectId, ct)).AsNoTracking();
        query = input.MappingIds is { } ids ? query.Where(m => ids.Contains(m.Id)) : MappingQuery.Apply(db, query, input.Filter ?? new MappingFilter());
        var mappings = await query.OrderBy(m => m.SourceDeviceKey).Take(MaxMappings + 1).ToListAsync(ct);
        if (mappings.Count > MaxMappings)
        {
            return null;
        }
        var project = await db.Projects.AsNoTracking().FirstAsync(p => p.Id == projectId, ct);
        var source = await db.Connections.AsNoTracking().FirstAsync(c => c.Id == project.SourceConnectionId, ct);
        var destination = await db.Connections.AsNoTracking().FirstAsync(c => c.Id == project.DestinationConnectionId, ct);
        var policy = await db.Policies.AsNoTracking().Where(p => p.Id == project.PolicyId).Select(p => p.Settings).FirstAsync(ct);
        var agentIds = mappings.Where(m => m.AgentId != null).Select(m => m.AgentId!.Value).ToList();
        var agents = new Dictionary<Guid, Core.Agents.DeviceAgent>();
        foreach (var chunk in agentIds.Chunk(500))
        {
            foreach (var agent in await db.Agents.AsNoTracking().Where(a => chunk.Contains(a.Id)).ToListAsync(ct))
            {
                agents[agent.Id] = agent;
            }
        }

        var now = time.GetUtcNow();
        var shared = ProjectChecks(kinds, source, destination, policy.Autopilot.Register, now);
        var results = new List<MappingReadiness>(mappings.Count);
        foreach (var mapping in mappings)
        {
            var checks = new List<ReadinessItem>();
            var agent = mapping.AgentId is { } id ? agents.GetValueOrDefault(id) : null;
            checks.Add(AgentCheck(agent, now));
            checks.Add(DiskCheck(agent));
            if (kinds.Contains(JobKind.RejoinDomain) && destination.NeedsDestinationPreparation)
            {
                checks.Add(await DestinationCheckAsync(new DestinationRequest(Guid.Empty, mapping, project, destination, policy), ct));
            }
            if (kinds.Contains(JobKind.MigrateUserProfile) && (mapping.PrimaryUser is null || mapping.DestinationUser is null))
            {
                checks.Add(new ReadinessItem("Users", ReadinessOutcome.Failed, "Migrate Windows user profile needs the mapping's primary user and destination user."));
            }
            if (kinds.Contains(JobKind.MigratePermissions) || kinds.Contains(JobKind.MigrateUserProfile))
            {
                checks.Add(await IdentitiesCheckAsync(project, policy, agent, ct));
            }
            checks.AddRange(shared);
            results.Add(new MappingReadiness(mapping.Id, mapping.SourceDevice, mapping.DestinationName,
                checks.All(c => c.Outcome != ReadinessOutcome.Failed), checks));
        }
        var ready = results.Count(r => r.Ready);
        var warnings = results.Count(r => r.Ready && r.Checks.Any(c => c.Outcome == ReadinessOutcome.Warning));
        return new ReadinessReport(kinds, results.Count, ready, warnings, results.Count - ready, results, now);
    }

    /// <summary>
    /// Keeps each checked mapping's outcome and reasons (the grid's Readiness column and filter), in one transaction:
    /// one prepared statement, run once a mapping.
    /// </summary>
    public async Task RecordAsync(ReadinessReport report, CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await using var command = store.CreateCommand(
            "UPDATE mappings SET readiness = @state, readiness_reasons = @reasons, readiness_checked_at = @at WHERE id = @id",
            [("state", 0), ("reasons", null), ("at", store.Dialect.Time(report.CheckedAt)), ("id", Guid.Empty)]);
        foreach (var mapping in report.Mappings)
        {
            command.Parameters["@state"].Value = (int)mapping.State;
            command.Parameters["@reasons"].Value = (object?)mapping.Reasons ?? DBNull.Value;
            command.Parameters["@id"].Value = store.Dialect.Value(mapping.MappingId);
            await command.ExecuteNonQueryAsync(ct);
        }
        await transaction.CommitRegardlessAsync();
    }

    private ReadinessItem AgentCheck(Core.Agents.DeviceAgent? agent, DateTimeOffset now)
    {
        if (agent is null)
        {
            return new ReadinessItem("Agent", ReadinessOutcome.Failed,
                "No agent has enrolled for this device: install the agent with the source connection's configuration key.");
        }
        if (agent.RevokedAt is not null)
        {
            return new ReadinessItem("Agent", ReadinessOutcome.Failed, $"The device's agent was revoked by {agent.RevokedBy}; reinstall it to enroll again.");
        }
        var seen = registry.LastSeen(agent.Id) is { } memory && memory > agent.LastSeenAt ? memory : agent.LastSeenAt;
        return seen >= now - gateway.Value.OnlineWindow
            ? new ReadinessItem("Agent", ReadinessOutcome.Passed, $"Online (agent {agent.AgentVersion}, {agent.OsVersion}).")
            : new ReadinessItem("Agent", ReadinessOutcome.Warning,
                $"Offline since {seen.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC: its jobs wait until the device is on and its agent polls.");
    }

    private ReadinessItem DiskCheck(Core.Agents.DeviceAgent? agent) => agent?.FreeDiskSpaceBytes switch
    {
        null => new ReadinessItem("Disk space", ReadinessOutcome.Warning, "The agent has not reported its free disk space."),
        var free when free < options.Value.MinimumFreeDiskSpaceBytes => new ReadinessItem("Disk space", ReadinessOutcome.Failed,
            $"{Gigabytes(free.Value)} free on the system drive; at least {Gigabytes(options.Value.MinimumFreeDiskSpaceBytes)} are needed."),
        var free => new ReadinessItem("Disk space", ReadinessOutcome.Passed, $"{Gigabytes(free.Value)} free on the system drive."),
    };

    private async Task<ReadinessItem> DestinationCheckAsync(DestinationRequest request, CancellationToken ct)
    {
        if (unreachable is not null)
        {
            return new ReadinessItem("Destination computer", ReadinessOutcome.Failed, $"Not checked: the directory did not answer ({unreachable}).");
        }
        try
        {
            var check = await directory.CheckDestinationAsync(request, ct);
            return new ReadinessItem("Destination computer", check.Ready ? ReadinessOutcome.Passed : ReadinessOutcome.Failed, check.Detail);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            unreachable = DirectoryFailures.Classify(e).MayRetry ? e.Message : null;
            return new ReadinessItem("Destination computer", ReadinessOutcome.Failed, $"The destination directory could not be checked: {e.Message}");
        }
    }

    private async Task<ReadinessItem> IdentitiesCheckAsync(Core.Projects.Project project, Core.Policies.PolicySettings policy, Core.Agents.DeviceAgent? agent, CancellationToken ct)
    {
        var sids = (agent?.ProfileSids ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(s => SecurityIdentifier.TryParse(s, out var sid) ? sid : null).OfType<SecurityIdentifier>()
            // Local accounts and well-known principals (SYSTEM's profiles) stay as they are: only domain accounts move.
            .Where(s => ProjectIdentities.IsAccountSid(s.ToString()))
            .ToList();
        if (agent is null || sids.Count == 0)
        {
            return new ReadinessItem("Identities", ReadinessOutcome.Warning,
                "The agent has reported no domain profiles yet; SIDs found in ACLs are mapped (or listed as unmapped) when the job runs.");
        }
        if (unreachable is not null)
        {
            return new ReadinessItem("Identities", ReadinessOutcome.Failed, $"Not checked: the directory did not answer ({unreachable}).");
        }
        try
        {
            var answer = await directory.MapSidsAsync(project, policy, sids, ct);
            if (answer.Unmapped.Count == 0)
            {
                return new ReadinessItem("Identities", ReadinessOutcome.Passed, $"All {answer.Pairs.Count} profile SID(s) map to the destination.");
            }
            var listed = string.Join("; ", answer.Unmapped.Take(5).Select(u => $"{u.Sid}: {u.Reason}"));
            return new ReadinessItem("Identities", ReadinessOutcome.Failed,
                $"{answer.Unmapped.Count} of {sids.Count} profile SID(s) map to nobody ({listed}{(answer.Unmapped.Count > 5 ? "; …" : "")}). Add explicit or domain mappings to the policy.");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            unreachable = DirectoryFailures.Classify(e).MayRetry ? e.Message : null;
            return new ReadinessItem("Identities", ReadinessOutcome.Failed, $"The directories could not be read for the SID map: {e.Message}");
        }
    }

    /// <summary>Checks that are the same for every mapping of the project (connections, tokens).</summary>
    private List<ReadinessItem> ProjectChecks(IReadOnlyList<JobKind> kinds, Connection source, Connection destination, bool registerAutopilot, DateTimeOffset now)
    {
        var checks = new List<ReadinessItem>();
        var connected = directory is ConnectedDirectory;
        if (kinds.Contains(JobKind.MigrateEntraIdGroups))
        {
            var gap = !source.EntraEnabled ? $"The source connection '{source.Name}' has no enabled Entra ID part."
                : connected ? DirectoryClients.EntraIdGap(source) ?? DirectoryClients.EntraIdGap(destination) : null;
            checks.Add(new ReadinessItem("Entra ID groups", gap is null ? ReadinessOutcome.Passed : ReadinessOutcome.Failed,
                gap ?? "The Entra ID connections needed to migrate groups are set up."));
        }
        if (kinds.Contains(JobKind.RegisterAutopilot))
        {
            var gap = destination.Kind != ConnectionKind.EntraId || destination.RejoinMethod != RejoinMethod.Offline
                    ? "Register Windows Autopilot needs an Entra ID destination with offline (bulk enrollment) rejoin."
                : !registerAutopilot ? "The policy does not register devices in Autopilot."
                : connected ? DirectoryClients.EntraIdGap(destination) : null;
            checks.Add(new ReadinessItem("Autopilot", gap is null ? ReadinessOutcome.Passed : ReadinessOutcome.Failed, gap ?? "Autopilot prerequisites are met."));
        }
        if (kinds.Contains(JobKind.RejoinDomain))
        {
            // A device leaves its source only with a way back in hand; without one its rejoin fails before it leaves.
            var gap = ReturnTickets.Gap(source, directory);
            checks.Add(new ReadinessItem("Return ticket", gap is null ? ReadinessOutcome.Passed : ReadinessOutcome.Failed,
                gap is null ? $"The server can make return tickets into '{source.Name}'." : $"{gap} Without a return ticket no device leaves its source."));
            if (destination.Kind == ConnectionKind.EntraId)
            {
                var package = destination.RejoinMethod == RejoinMethod.Online
                    ? "Windows joins Microsoft Entra ID online only with a user's credentials: change the destination to Offline with a bulk enrollment package."
                    : ReturnTickets.PackageGap(destination);
                checks.Add(new ReadinessItem("Provisioning package", package is null ? ReadinessOutcome.Passed : ReadinessOutcome.Failed,
                    package ?? $"The destination's provisioning package is uploaded ({destination.BulkEnrollmentPackageBytes:N0} bytes)."));
            }
        }
        if (destination.Kind == ConnectionKind.EntraId && destination.RejoinMethod == RejoinMethod.Offline
            && (kinds.Contains(JobKind.RejoinDomain) || kinds.Contains(JobKind.RegisterAutopilot)))
        {
            var expires = destination.BulkEnrollmentTokenExpiresAt;
            checks.Add(expires is null || expires <= now
                ? new ReadinessItem("Bulk enrollment token", ReadinessOutcome.Failed,
                    expires is null ? "The bulk enrollment token has no expiry date recorded." : $"The bulk enrollment token expired on {expires:yyyy-MM-dd}.")
                : expires - now < options.Value.TokenExpiryWarning
                    ? new ReadinessItem("Bulk enrollment token", ReadinessOutcome.Warning, $"The bulk enrollment token expires on {expires:yyyy-MM-dd}.")
                    : new ReadinessItem("Bulk enrollment token", ReadinessOutcome.Passed, $"Valid until {expires:yyyy-MM-dd}."));
        }
        return checks;
    }

    private static string Gigabytes(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.0} GB");
}
