using Rehome.Agent.Platform;

namespace Rehome.Agent.Updates;

/// <summary>
/// Watches a new version until it checks in or its deadline passes, then restores the previous one. Runs apart from
/// the new version (on Windows, a helper process started from the kept previous version), so a new version that
/// never starts is still rolled back.
/// </summary>
public static class UpdateWatchdog
{
    /// <summary>How often the watchdog looks at the record.</summary>
    public static TimeSpan Interval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <returns>Whether it rolled the update back.</returns>
    public static async Task<bool> RunAsync(UpdateState state, IAgentInstallation installation, TimeProvider time, ILogger logger, CancellationToken ct)
    {
        while (true)
        {
            var record = state.Load();
            switch (UpdateDecisions.Watch(record, time.GetUtcNow()))
            {
                case WatchAction.Done:
                    return false;
                case WatchAction.RollBack:
                    logger.LogError("Version {ToVersion} did not check in by {Deadline}; restoring version {FromVersion}", record!.ToVersion, record.Deadline, record.FromVersion);
                    await installation.RestorePreviousAsync(record, ct);
                    state.Save(record with
                    {
                        Phase = UpdatePhase.RolledBack,
                        Reported = false,
                        FailedVersions = [.. record.FailedVersions.Append(record.ToVersion).Distinct(StringComparer.OrdinalIgnoreCase)],
                    });
                    return true;
                default:
                    var left = record!.Deadline - time.GetUtcNow();
                    await Task.Delay(left < Interval ? TimeSpan.FromTicks(Math.Max(left.Ticks, 0)) + TimeSpan.FromMilliseconds(1) : Interval, time, ct);
                    break;
            }
        }
    }
}
