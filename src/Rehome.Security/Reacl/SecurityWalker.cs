using System.Diagnostics;
using Rehome.Security.Stores;

namespace Rehome.Security.Reacl;

/// <summary>
/// Walks areas of an <see cref="ISecurityStore"/> (minus the areas to ignore) and translates every item's
/// descriptor. Item errors (a store's <see cref="SecurityStoreException"/>, a descriptor that cannot be decoded)
/// are collected with their kind and the walk goes on; anything else is a defect and ends the walk. Every change is
/// journaled first; a checkpoint lets a killed walk resume; a dry run only reports.
/// </summary>
public sealed class SecurityWalker
{
    private static readonly char[] Separators = ['/', '\\'];
    private readonly ISecurityStore store;
    private readonly DescriptorTranslator translator;
    private readonly WalkOptions options;

    public SecurityWalker(ISecurityStore store, SidMap map, TranslationOptions translation, WalkOptions options)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(translation);
        ArgumentNullException.ThrowIfNull(options);
        if (!options.DryRun && options.UndoJournalFile is null)
        {
            throw new ArgumentException("A walk that changes descriptors needs an undo journal file.", nameof(options));
        }

        this.store = store;
        this.options = options;

        // Where nothing propagates inheritance, inherited ACEs carry source SIDs that nobody else would fix.
        translator = new DescriptorTranslator(map, store.PropagatesInheritance ? translation : translation with { TranslateInheritedAces = true });
    }

    public WalkResult Walk(IReadOnlyList<string> areas, IReadOnlyList<string> areasToIgnore, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(areas);
        ArgumentNullException.ThrowIfNull(areasToIgnore);
        var checkpoint = options.DryRun ? null : WalkCheckpoint.Load(options.CheckpointFile);
        var run = new Run(this, checkpoint, areasToIgnore, cancellationToken);
        using (run)
        {
            for (var areaIndex = checkpoint?.AreaIndex ?? 0; areaIndex < areas.Count; areaIndex++)
            {
                run.WalkArea(areaIndex, areas[areaIndex], areaIndex == checkpoint?.AreaIndex ? checkpoint.Path : null);
            }

            return run.Finish();
        }
    }

    private sealed class Run : IDisposable
    {
        private readonly SecurityWalker walker;
        private readonly IReadOnlyList<string> ignored;
        private readonly CancellationToken cancellationToken;
        private readonly UndoJournal? journal;
        private readonly HashSet<string> journaled = new(StringComparer.Ordinal);
        private readonly List<WalkError> errors;
        private readonly List<string> wouldChange = [];
        private readonly long started;
        private readonly bool resumed;
        private byte[] buffer = new byte[4096];
        private long seen;
        private long changed;
        private long failed;
        private int areaIndex;
        private string lastPath = string.Empty;
        private long sinceCheckpoint;

        public Run(SecurityWalker walker, WalkCheckpoint? checkpoint, IReadOnlyList<string> ignored, CancellationToken cancellationToken)
        {
            this.walker = walker;
            this.ignored = ignored;
            this.cancellationToken = cancellationToken;
            started = walker.options.TimeProvider.GetTimestamp();
            resumed = checkpoint is not null;
            seen = checkpoint?.Seen ?? 0;
            changed = checkpoint?.Changed ?? 0;
            failed = checkpoint?.Failed ?? 0;
            errors = checkpoint?.Errors ?? [];
            if (!walker.options.DryRun)
            {
                // Items changed after the last checkpoint are found unchanged on resume; the journal still counts them.
                foreach (var (path, _) in UndoJournal.ReadAll(walker.options.UndoJournalFile!))
                {
                    journaled.Add(path);
                }

                journal = UndoJournal.Open(walker.options.UndoJournalFile!);
            }
        }

        public void WalkArea(int index, string area, string? resumeAfter)
        {
            areaIndex = index;
            var resumeComponents = resumeAfter is null ? null : Components(area, resumeAfter);
            var pending = new Stack<string>();
            pending.Push(area);
            while (pending.Count > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var path = pending.Pop();
                if (IsIgnored(path))
                {
                    continue;
                }

                var position = resumeComponents is null ? 1 : ComparePosition(Components(area, path), resumeComponents);
                if (position < 0)
                {
                    continue; // the whole subtree was done before the checkpoint
                }

                if (position > 0 && Process(path) == SecurityStoreErrorKind.NotFound)
                {
                    continue; // it vanished: one error, not a second one for listing it
                }

                IEnumerable<string> children;
                try
                {
                    children = [.. walker.store.EnumerateChildren(path)];
                }
                catch (SecurityStoreException exception)
                {
                    Fail(path, "cannot list children: " + exception.Message, exception.Kind);
                    continue;
                }

                var sorted = children.ToList();
                sorted.Sort(StringComparer.Ordinal);
                for (var child = sorted.Count - 1; child >= 0; child--)
                {
                    pending.Push(sorted[child]);
                }
            }
        }

        public WalkResult Finish()
        {
            journal?.Flush();
            if (walker.options.CheckpointFile is { } file && File.Exists(file))
            {
                File.Delete(file);
            }

            var elapsed = walker.options.TimeProvider.GetElapsedTime(started);
            Report(string.Empty, elapsed);
            return new WalkResult
            {
                Seen = seen,
                Changed = changed,
                Failed = failed,
                Resumed = resumed,
                Errors = errors,
                WouldChange = wouldChange,
                Elapsed = elapsed,
            };
        }

        public void Dispose() => journal?.Dispose();

        // The kind of the item's failure, if it failed.
        private SecurityStoreErrorKind? Process(string path)
        {
            SecurityStoreErrorKind? failure = null;
            seen++;
            try
            {
                var original = walker.store.ReadDescriptor(path);
                var length = walker.translator.MeasureTranslated(original);
                if (length < 0)
                {
                    if (journaled.Contains(path))
                    {
                        changed++;
                    }
                }
                else if (walker.options.DryRun)
                {
                    wouldChange.Add(path);
                    changed++;
                }
                else
                {
                    if (buffer.Length < length)
                    {
                        buffer = new byte[Math.Max(length, buffer.Length * 2)];
                    }

                    walker.translator.Translate(original, buffer);
                    if (journaled.Add(path))
                    {
                        journal!.Record(path, original);
                    }

                    walker.store.WriteDescriptor(path, buffer.AsSpan(0, length));
                    changed++;
                }
            }
            catch (SecurityStoreException exception)
            {
                Fail(path, exception.Message, exception.Kind);
                failure = exception.Kind;
            }
            catch (SecurityFormatException exception)
            {
                Fail(path, "the descriptor cannot be read: " + exception.Message, SecurityStoreErrorKind.Other);
                failure = SecurityStoreErrorKind.Other;
            }

            lastPath = path;
            if (seen % walker.options.ProgressInterval == 0)
            {
                Report(path, walker.options.TimeProvider.GetElapsedTime(started));
            }

            if (walker.options.CheckpointFile is { } file && ++sinceCheckpoint >= walker.options.CheckpointInterval)
            {
                sinceCheckpoint = 0;
                journal?.Flush();
                new WalkCheckpoint { AreaIndex = areaIndex, Path = lastPath, Seen = seen, Changed = changed, Failed = failed, Errors = errors }.Save(file);
            }

            return failure;
        }

        private void Fail(string path, string message, SecurityStoreErrorKind kind)
        {
            failed++;
            errors.Add(new WalkError(path, message, kind));
        }

        private void Report(string path, TimeSpan elapsed)
        {
            var rate = elapsed > TimeSpan.Zero ? seen / elapsed.TotalSeconds : 0;
            walker.options.Progress?.Report(new WalkProgress(seen, changed, failed, rate, path));
        }

        private bool IsIgnored(string path)
        {
            foreach (var area in ignored)
            {
                if (string.Equals(path, area, StringComparison.Ordinal)
                    || (path.Length > area.Length && path.StartsWith(area, StringComparison.Ordinal)
                        && (Array.IndexOf(Separators, path[area.Length]) >= 0 || Array.IndexOf(Separators, area[^1]) >= 0)))
                {
                    return true;
                }
            }

            return false;
        }

        private static string[] Components(string area, string path)
        {
            Debug.Assert(path.StartsWith(area, StringComparison.Ordinal), "Walked paths lie under their area.");
            return path[area.Length..].Split(Separators, StringSplitOptions.RemoveEmptyEntries);
        }

        // Negative: the item and its subtree come before the checkpoint; zero: the item is the checkpoint or one of its
        // ancestors (done, but children may remain); positive: after the checkpoint.
        private static int ComparePosition(string[] item, string[] checkpoint)
        {
            var common = Math.Min(item.Length, checkpoint.Length);
            for (var index = 0; index < common; index++)
            {
                var comparison = string.CompareOrdinal(item[index], checkpoint[index]);
                if (comparison != 0)
                {
                    return comparison;
                }
            }

            return item.Length <= checkpoint.Length ? 0 : 1;
        }
    }
}
