using Microsoft.EntityFrameworkCore;
using Rehome.Core.Mappings;
using Rehome.Core.Runs;
using Rehome.Server.Administration;
using Rehome.Server.Mappings;
using Rehome.Server.Store;

namespace Rehome.Server.Console;

/// <summary>One row of the mappings grid.</summary>
public sealed record MappingRow(
    Guid Id, string SourceDevice, string DestinationName, JobKind? Stage, JobStatus? Status, int ItemsDone, int ItemsTotal,
    string AgentState, Guid? LastRunId, DateTimeOffset? LastRunAt, ReadinessState? Readiness = null, string? ReadinessReasons = null,
    DateTimeOffset? ReadinessCheckedAt = null);

/// <summary>
/// A window of the grid's rows and the total matching its filter (<see cref="MappingTotal.IsEstimate"/> when the
/// total is a count up to <see cref="MappingCounts.MaxAge"/> old: the grid says "about N").
/// </summary>
public sealed record MappingWindow(IReadOnlyList<MappingRow> Rows, MappingTotal Total);

/// <summary>
/// The rows of the mappings grid, a window at a time (the grid asks only for the rows on screen, so 100,000
/// mappings cost what 50 do), filtered and sorted by <see cref="MappingQuery"/>: the same filter that a run on
/// "all N matching" and an export use.
/// </summary>
public sealed class MappingGrid(RehomeDbContext db, AgentCommands agents, MappingCounts counts)
{
    /// <summary>How many rows the mappings page renders on the server, before its circuit connects.</summary>
    public const int FirstWindow = 20;

    public async Task<MappingWindow> WindowAsync(
        Guid projectId, MappingFilter filter, string? sort, int start, int count, CancellationToken ct)
    {
        var query = MappingQuery.Apply(db, (await db.MappingsOfAsync(projectId, ct)).AsNoTracking(), filter);
        // The grid asks again every second: past 10,000 rows its scroll bar takes a count up to 15 s old.
        var total = await counts.CountAsync(projectId, filter, query, ct);
        // The window's mappings with their agents and latest runs in one round trip (the joins are on primary keys,
        // after the window is cut, so they read only its rows).
        var page = await (
                from m in MappingQuery.Sort(query, sort).Skip(start).Take(count)
                join a in db.Agents on m.AgentId equals a.Id into agent
                from a in agent.DefaultIfEmpty()
                join r in db.Runs on m.LastRunId equals r.Id into run
                from r in run.DefaultIfEmpty()
                select new
                {
                    m.Id,
                    m.SourceDevice,
                    m.DestinationName,
                    m.Stage,
                    m.Status,
                    m.ItemsDone,
                    m.ItemsTotal,
                    m.AgentId,
                    AgentFound = a != null,
                    AgentLastSeenAt = a == null ? default : a.LastSeenAt,
                    AgentRevokedAt = a == null ? null : a.RevokedAt,
                    AgentApproval = a == null ? default : a.Approval,
                    AgentUninstalledAt = a == null ? null : a.UninstalledAt,
                    m.LastRunId,
                    LastRunAt = r == null ? (DateTimeOffset?)null : r.CreatedAt,
                    m.Readiness,
                    m.ReadinessReasons,
                    m.ReadinessCheckedAt,
                })
            .ToListAsync(ct);
        var rows = page.Select(m => new MappingRow(
            m.Id, m.SourceDevice, m.DestinationName, m.Stage, m.Status, m.ItemsDone, m.ItemsTotal,
            m.AgentId is not { } agent ? "not enrolled"
                : m.AgentFound ? agents.StateOf(agent, m.AgentLastSeenAt, m.AgentRevokedAt, m.AgentApproval, m.AgentUninstalledAt)
                : "removed",
            m.LastRunId, m.LastRunAt, m.Readiness, m.ReadinessReasons, m.ReadinessCheckedAt)).ToList();
        return new MappingWindow(rows, total);
    }
}
