using Microsoft.EntityFrameworkCore;
using Rehome.Core.Runs;
using Rehome.Server.Store;

namespace Rehome.Server.Runs;

/// <summary>
/// The run engine's "anything to do?" for the steps of its tick that read the store every second (issue 16): a compiled
/// query each (no expression tree built, funcletized and looked up in the query cache a tick), asked before the step's
/// own query, which an idle tick then never builds. Each asks for exactly the rows its step starts from (same sets, same
/// filters), so a step skipped would have found nothing and done nothing; when there is something, the step runs as
/// before and decides on its own. Each is compiled for each store's model (<see cref="CompiledPerModel{TQuery}"/>).
/// </summary>
internal static class EngineIdleChecks
{
    /// <summary>
    /// The jobs that are rows (as <see cref="RehomeDbContext.StoredJobs"/>, which a compiled query cannot name): run
    /// items never hold a lease or wait for a destination, and the view would derive every item's jobs each tick.
    /// </summary>
    private const string StoredJobs = "SELECT * FROM jobs";

    /// <summary>A scheduled run due now (what <see cref="JobTransitions.ReleaseDueRunsAsync"/> releases).</summary>
    public static readonly CompiledPerModel<Func<RehomeDbContext, DateTimeOffset, CancellationToken, Task<bool>>> AnyRunDue = new(() =>
        EF.CompileAsyncQuery((RehomeDbContext db, DateTimeOffset now, CancellationToken ct) =>
            db.Runs.Any(r => r.ReleasedAt == null && r.StartAt <= now)));

    /// <summary>A run whose mappings' rows do not show it yet (what <see cref="SummaryCatchUp.CatchUpAsync"/> writes).</summary>
    public static readonly CompiledPerModel<Func<RehomeDbContext, CancellationToken, Task<bool>>> AnyRunNotShown = new(() =>
        EF.CompileAsyncQuery((RehomeDbContext db, CancellationToken ct) => db.Runs.Any(r => r.MappingsShownAt == null)));

    /// <summary>A lease lapsed by now (what <see cref="JobTransitions.ExpireLeasesAsync"/> returns or ends).</summary>
    public static readonly CompiledPerModel<Func<RehomeDbContext, DateTimeOffset, CancellationToken, Task<bool>>> AnyLeaseLapsed = new(() =>
        EF.CompileAsyncQuery((RehomeDbContext db, DateTimeOffset now, CancellationToken ct) =>
            db.Jobs.FromSqlRaw(StoredJobs).Any(j => j.Status == JobStatus.InProgress && j.LeaseExpiresAt < now)));

    /// <summary>
    /// A job waiting for its destination and not claimed (or its claim or back-off over) by now: the rows
    /// <see cref="DestinationPreparer.PrepareWaitingAsync"/> starts from, before its joins (which only narrow them).
    /// </summary>
    public static readonly CompiledPerModel<Func<RehomeDbContext, DateTimeOffset, CancellationToken, Task<bool>>> AnyDestinationWaiting = new(() =>
        EF.CompileAsyncQuery((RehomeDbContext db, DateTimeOffset now, CancellationToken ct) =>
            db.Jobs.FromSqlRaw(StoredJobs).Any(j => j.Status == JobStatus.WaitingForDestination && (j.LeaseExpiresAt == null || j.LeaseExpiresAt < now))));
}
