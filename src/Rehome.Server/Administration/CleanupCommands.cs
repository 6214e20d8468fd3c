using Microsoft.EntityFrameworkCore;
using Rehome.Core.Cleanup;
using Rehome.Core.Mappings;
using Rehome.Core.Runs;
using Rehome.Server.Audit;
using Rehome.Server.Gateway;
using Rehome.Server.Mappings;
using Rehome.Server.Store;

namespace Rehome.Server.Administration;

/// <summary>Which mappings a cleanup looks at: explicit ids, a filter (the grid's), or neither for the whole project.</summary>
public sealed record CleanupSelection(List<Guid>? MappingIds, MappingFilter? Filter);

/// <summary>
/// What a cleanup did: how many mappings it removed (or agents it told to uninstall) and how many mappings it kept, by
/// reason; for an uninstall, the agents of completed mappings refused by rule (revoked, uninstalled already, ...).
/// </summary>
public sealed record CleanupResult(int Done, int Kept, IReadOnlyDictionary<string, int> KeptByReason, IReadOnlyDictionary<string, int>? AgentsRefusedByRule = null);

/// <summary>
/// After the migration: removes a project's completed mappings (with their jobs) and tells the agents of its
/// completed mappings to uninstall themselves, by <see cref="CompletedMappingRules"/>, each in one request.
/// </summary>
public sealed class CleanupCommands(RehomeDbContext db, StoreCommands store, AgentCommands agents, AgentRegistry registry, AuditTrail audit)
{
    /// <summary>The rule's reason for mappings without an agent, in the uninstall's answer.</summary>
    public const string NoAgent = "NoAgent";

    /// <summary>
    /// Removes the selected mappings whose migration is complete, and their jobs, in one transaction under the project's
    /// lock (no run starts meanwhile), audited once with the count.
    /// </summary>
    public async Task<Outcome<CleanupResult>> RemoveCompletedAsync(Guid projectId, CleanupSelection selection, CancellationToken ct)
    {
        if (Check(selection) is { } invalid)
        {
            return invalid;
        }
        await using var transaction = await ProjectLock.TakeAsync(db, store, projectId, ct);
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct))
        {
            return Failure.NotFound($"Project {projectId}");
        }
        if (await ArchivedProjects.RefuseAsync(db, projectId, ArchivedAction.RemoveMappings, ct) is { } archived)
        {
            return archived;
        }
        var (completed, kept) = await JudgeAsync(projectId, selection, ct);
        foreach (var chunk in completed.Select(m => m.Id).Chunk(500))
        {
            await JobRecords.DeleteAsync(db, db.StoredJobs.Where(j => chunk.Contains(j.MappingId)), db.RunItems.Where(i => chunk.Contains(i.MappingId)), ct);
            await db.Mappings.Where(m => chunk.Contains(m.Id)).ExecuteDeleteAsync(ct);
        }
        var result = Result(completed.Count, kept);
        audit.Record("mapping.remove-completed", $"project:{projectId}", $"{result.Done} removed, {result.Kept} kept");
        await db.SaveChangesAsync(ct);
        await transaction.CommitRegardlessAsync();
        registry.MappingsRemoved(completed.Where(m => m.AgentId is not null).Select(m => m.AgentId!.Value).Distinct());
        return result;
    }

    /// <summary>Tells the agents of the selected completed mappings to uninstall themselves (see <see cref="AgentCommands.RequestUninstallAsync"/>), audited once.</summary>
    public async Task<Outcome<CleanupResult>> UninstallCompletedAgentsAsync(Guid projectId, CleanupSelection selection, CancellationToken ct)
    {
        if (Check(selection) is { } invalid)
        {
            return invalid;
        }
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct))
        {
            return Failure.NotFound($"Project {projectId}");
        }
        var (completed, kept) = await JudgeAsync(projectId, selection, ct);
        var withAgent = completed.Where(m => m.AgentId is not null).Select(m => m.AgentId!.Value).Distinct().ToList();
        var noAgent = completed.Count(m => m.AgentId is null);
        if (noAgent > 0)
        {
            kept[NoAgent] = noAgent;
        }
        // One transaction: every agent's mark and the one audit entry naming them are saved together, or none.
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var told = new List<Guid>();
        var refused = new Dictionary<string, int>();
        foreach (var chunk in withAgent.Chunk(500))
        {
            var (marked, refusals) = await agents.MarkUninstallManyAsync(chunk, ct);
            told.AddRange(marked);
            foreach (var (rule, n) in refusals)
            {
                refused[rule] = refused.GetValueOrDefault(rule) + n;
            }
        }
        var result = new CleanupResult(told.Count, kept.Values.Sum(), kept, refused);
        audit.Record("agent.uninstall-requested", $"project:{projectId}",
            $"{told.Count} agents of completed mappings told to uninstall ({string.Join(", ", told)}); {result.Kept} mappings kept; " +
            $"{refused.Values.Sum()} agents refused{(refused.Count > 0 ? $" ({string.Join(", ", refused.Select(r => $"{r.Key} {r.Value}"))})" : "")}");
        await db.SaveChangesAsync(ct);
        await transaction.CommitRegardlessAsync();
        await agents.TellUninstallAsync(told, ct);
        return result;
    }

    private static Failure? Check(CleanupSelection selection)
    {
        if (selection.MappingIds is not null && selection.Filter is not null)
        {
            return Failure.Validation("filter", "SelectionAmbiguous", "Give either mappingIds or a filter (or neither, for every mapping of the project), not both.");
        }
        return selection.Filter is { } filter && MappingQuery.Check(filter, null, "filter.") is { } problem ? Failure.Validation([problem]) : null;
    }

    private static CleanupResult Result(int done, Dictionary<string, int> kept) => new(done, kept.Values.Sum(), kept);

    /// <summary>
    /// The selected mappings, split by the rule into the completed ones and counts of the others by reason. The whole
    /// project is read for explicit ids (tens of thousands of ids make no query: a parameter each would pass the limit).
    /// </summary>
    private async Task<(List<(Guid Id, Guid? AgentId)> Completed, Dictionary<string, int> Kept)> JudgeAsync(
        Guid projectId, CleanupSelection selection, CancellationToken ct)
    {
        var project = (await db.MappingsOfAsync(projectId, ct)).AsNoTracking();
        IQueryable<Mapping> selected = selection.Filter is { } filter ? MappingQuery.Apply(db, project, filter) : project;
        var mappings = await selected.Select(m => new { m.Id, m.AgentId }).ToListAsync(ct);
        if (selection.MappingIds is { } ids)
        {
            var wanted = ids.ToHashSet();
            mappings = [.. mappings.Where(m => wanted.Contains(m.Id))];
        }
        // Rows and run items apart, each probed by mapping (a join with the all_jobs view scans both on SQLite); items
        // first, so a job made a row between the two reads is seen at least once.
        var items = await selected.Join(db.RunItems, m => m.Id, i => i.MappingId, (m, i) => i).AsNoTracking().ToListAsync(ct);
        var rows = await selected.Join(db.StoredJobs, m => m.Id, j => j.MappingId,
                (m, j) => new { j.MappingId, j.Kind, j.Status, j.CreatedAt, j.DryRun, IsRevert = j.RevertOf != null })
            .ToListAsync(ct);
        var jobs = rows.Select(j => (j.MappingId, Fact: new CompletedJobFact(j.Kind, j.Status, j.CreatedAt, j.DryRun, j.IsRevert)))
            .Concat(items.SelectMany(i => RunItems.Jobs(i).Select(j => (i.MappingId, Fact: new CompletedJobFact(j.Kind, j.Status, i.CreatedAt, i.DryRun)))))
            .ToLookup(j => j.MappingId, j => j.Fact);
        var completed = new List<(Guid, Guid?)>();
        var kept = new Dictionary<string, int>();
        foreach (var m in mappings)
        {
            if (CompletedMappingRules.Check(jobs[m.Id]) is { } reason)
            {
                kept[reason.ToString()] = kept.GetValueOrDefault(reason.ToString()) + 1;
            }
            else
            {
                completed.Add((m.Id, m.AgentId));
            }
        }
        return (completed, kept);
    }
}
