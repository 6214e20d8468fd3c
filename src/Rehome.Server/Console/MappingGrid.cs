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
/// The rows of the mappings grid, a window at a time (the grid asks only for the rows on screen, so 100,000
/// mappings cost what 50 do), filtered and sorted by <see cref="MappingQuery"/>: the same filter that a run on
/// "all N matching" and an export use.
/// </summary>
public sealed class MappingGrid(RehomeDbContext db, AgentCommands agents, MappingCounts counts)
{
    public async Task<(IReadOnlyList<MappingRow> Rows, int Total)> WindowAsync(
        Guid projectId, MappingFilter filter, string? sort, int start, int count, CancellationToken ct)
    {
        var query = MappingQuery.Apply(db, db.Mappings.AsNoTracking().Where(m => m.ProjectId == projectId), filter);
        // The grid asks again every second: past 10,000 rows its scroll bar takes a count up to 15 s old.
        var total = (await counts.CountAsync(projectId, filter, query, ct)).Count;
        var page = await MappingQuery.Sort(query, sort).Skip(start).Take(count)
            .Select(m => new
            {
                m.Id,
                m.SourceDevice,
                m.DestinationName,
                m.Stage,
                m.Status,
                m.ItemsDone,
                m.ItemsTotal,
                m.AgentId,
                m.LastRunId,
                m.Readiness,
                m.ReadinessReasons,
                m.ReadinessCheckedAt,
            })
            .ToListAsync(ct);
        var agentIds = page.Where(m => m.AgentId != null).Select(m => m.AgentId!.Value).ToList();
        var states = agentIds.Count == 0 ? [] : await agents.StatesAsync(agentIds, ct);
        var runIds = page.Where(m => m.LastRunId != null).Select(m => m.LastRunId!.Value).Distinct().ToList();
        var runs = runIds.Count == 0
            ? []
            : await db.Runs.AsNoTracking().Where(r => runIds.Contains(r.Id)).Select(r => new { r.Id, r.CreatedAt }).ToDictionaryAsync(r => r.Id, r => r.CreatedAt, ct);
        var rows = page.Select(m => new MappingRow(
            m.Id, m.SourceDevice, m.DestinationName, m.Stage, m.Status, m.ItemsDone, m.ItemsTotal,
            m.AgentId is { } agent ? states.GetValueOrDefault(agent, "removed") : "not enrolled",
            m.LastRunId, m.LastRunId is { } run && runs.TryGetValue(run, out var at) ? at : null, m.Readiness, m.ReadinessReasons, m.ReadinessCheckedAt)).ToList();
        return (rows, total);
    }
}
