using Rehome.Security.Stores;

namespace Rehome.Security.Reacl;

/// <summary>An item the walk could not read, translate or write, why, and the kind of failure.</summary>
public sealed record WalkError(string Path, string Message, SecurityStoreErrorKind Kind = SecurityStoreErrorKind.Other);

/// <summary>Progress of a walk: counts so far and the current rate.</summary>
public readonly record struct WalkProgress(long Seen, long Changed, long Failed, double ItemsPerSecond, string CurrentPath);

/// <summary>How a walk runs.</summary>
public sealed record WalkOptions
{
    /// <summary>Report what would change, change nothing.</summary>
    public bool DryRun { get; init; }

    /// <summary>File holding the walk's position, so a restarted walk continues where it stopped; none when null.</summary>
    public string? CheckpointFile { get; init; }

    /// <summary>Undo journal file (see <see cref="UndoJournal"/>); required unless <see cref="DryRun"/>.</summary>
    public string? UndoJournalFile { get; init; }

    /// <summary>Items between two checkpoints.</summary>
    public int CheckpointInterval { get; init; } = 500;

    /// <summary>Items between two progress reports.</summary>
    public int ProgressInterval { get; init; } = 1000;

    public IProgress<WalkProgress>? Progress { get; init; }

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}

/// <summary>The outcome of a walk; counts include the part done before a restart.</summary>
public sealed record WalkResult
{
    public long Seen { get; init; }

    public long Changed { get; init; }

    public long Failed { get; init; }

    /// <summary>Whether the walk continued from a checkpoint.</summary>
    public bool Resumed { get; init; }

    public IReadOnlyList<WalkError> Errors { get; init; } = [];

    /// <summary>
    /// Items left as they are on purpose, with the reason (an item that holds one account cannot take a second in
    /// add mode, nor be left without one in remove mode): reported, not failures.
    /// </summary>
    public IReadOnlyList<WalkError> Skipped { get; init; } = [];

    /// <summary>In a dry run, the items that would change.</summary>
    public IReadOnlyList<string> WouldChange { get; init; } = [];

    public TimeSpan Elapsed { get; init; }

    /// <summary>Whether the job ends "Exceptions": it finished, with item-level errors.</summary>
    public bool HasExceptions => Failed > 0;
}
