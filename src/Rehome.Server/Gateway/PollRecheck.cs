using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Rehome.Core.Runs;
using Rehome.Server.Store;

namespace Rehome.Server.Gateway;

/// <summary>
/// The fallback look for startable jobs that no signal announced (a replica that died between its commit and its
/// NOTIFY): once every <see cref="GatewayOptions.RecheckInterval"/> for the whole server, one indexed query per 1,000
/// mappings whose agents wait here, and a signal for those that have a job waiting to start. Every idle poll used to
/// look on its own every interval: with 10,000 agents, 333 store looks a second for nothing.
/// </summary>
public sealed class PollRecheck(IServiceScopeFactory scopes, JobSignals signals, IOptions<GatewayOptions> options, ILogger<PollRecheck> logger) : BackgroundService
{
    private const int Chunk = 1_000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // On the wall clock, as the long poll is.
        using var timer = new PeriodicTimer(options.Value.RecheckInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await RecheckAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The store is away: the next interval looks again; signals still wake the polls meanwhile.
                    logger.LogWarning(e, "The gateway's recheck for unannounced jobs failed");
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The server stops.
        }
    }

    /// <summary>Signals the mappings, among those with a poll waiting here, that have a job waiting to start; returns how many.</summary>
    public async Task<int> RecheckAsync(CancellationToken ct)
    {
        var waiting = signals.WaitingMappings();
        if (waiting.Count == 0)
        {
            return 0;
        }
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        var found = new List<Guid>();
        foreach (var chunk in waiting.Chunk(Chunk))
        {
            found.AddRange(await db.Jobs.IgnoreQueryFilters().AsNoTracking()
                // One collection parameter (a JSON array on SQLite, an array on PostgreSQL): EF's default of one
                // parameter an id builds the statement's text and binds a thousand parameters on every recheck.
                .Where(j => EF.Parameter(chunk).Contains(j.MappingId) && j.Status == JobStatus.WaitingToStart)
                .Select(j => j.MappingId).Distinct().ToListAsync(ct));
        }
        signals.SignalHere(found);
        return found.Count;
    }
}
