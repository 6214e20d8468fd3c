using Rehome.Agent.Journal;

namespace Rehome.Agent.Updates;

/// <summary>Where an update stands.</summary>
public enum UpdatePhase
{
    /// <summary>The new version was installed and started; it must check in before the deadline.</summary>
    HandedOver,

    /// <summary>The new version checked in: the previous one is no longer kept.</summary>
    Confirmed,

    /// <summary>The new version did not check in in time: the previous version was put back.</summary>
    RolledBack,
}

/// <summary>
/// The update the agent is in the middle of, kept in <c>update.json</c> in the state folder: it outlives the
/// process that started the update, so the new version knows to check in, the watchdog knows when to give up on
/// it, and the previous version, once restored, knows to report it.
/// </summary>
public sealed record UpdateRecord
{
    public required string FromVersion { get; init; }

    public required string ToVersion { get; init; }

    public required Guid PackageId { get; init; }

    public UpdatePhase Phase { get; init; }

    public DateTimeOffset HandedOverAt { get; init; }

    /// <summary>The new version must have checked in by then, or the previous one is restored.</summary>
    public DateTimeOffset Deadline { get; init; }

    /// <summary>Whether the server has the outcome (a report lost to the network is sent again at the next start).</summary>
    public bool Reported { get; init; }

    /// <summary>Versions that rolled back or were refused here: never tried again on this device.</summary>
    public List<string> FailedVersions { get; init; } = [];
}

/// <summary>Reads and writes <c>update.json</c> (atomically) and holds the staged packages' folder.</summary>
public sealed class UpdateState(string stateFolder)
{
    public string Path { get; } = System.IO.Path.Combine(stateFolder, "update.json");

    /// <summary>Where verified packages are unpacked, one folder a version.</summary>
    public string StagingFolder { get; } = System.IO.Path.Combine(stateFolder, "updates");

    public UpdateRecord? Load() => DurableFile.ReadJson<UpdateRecord>(Path);

    public void Save(UpdateRecord record)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        DurableFile.WriteJson(Path, record);
    }

    public UpdateRecord? Change(Func<UpdateRecord, UpdateRecord> change)
    {
        if (Load() is not { } record)
        {
            return null;
        }
        var changed = change(record);
        Save(changed);
        return changed;
    }
}
