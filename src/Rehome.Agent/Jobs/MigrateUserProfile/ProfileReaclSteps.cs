using Rehome.Agent.Jobs.Common;
using Rehome.Agent.Platform;
using Rehome.Protocol;
using Rehome.Security.Reacl;
using Rehome.Security.Stores;

namespace Rehome.Agent.Jobs.MigrateUserProfile;

/// <summary>One Re-ACL walk of the profile job: its journal files, its walk, its area's counts.</summary>
internal static class ProfileWalk
{
    public static async Task<WalkResult> RunAsync(JobContext context, ISecurityStore store, IReadOnlyList<string> roots, string name)
    {
        var map = await Identities.MapAsync(context, [], ProfileJournal.MapFile);
        var walker = ReaclWalkers.Descriptors(context, store, map, $"profile.{name}.checkpoint", UndoFile(name));
        var result = await Task.Run(() => walker.Walk(roots, [], context.Cancellation), context.Cancellation);
        foreach (var error in result.Errors.Take(ProgressReport.MaxItems * 10))
        {
            context.Report(new ItemResult(error.Path, ItemOutcome.Failed, error.Message));
        }
        return result;
    }

    public static string UndoFile(string name) => $"profile.{name}.undo";

    public static AreaCount Count(ReaclArea area, WalkResult result, int moreFailed = 0, string? problem = null) =>
        ReaclWalkers.Count(area, result.Seen, result.Changed, result.Failed + moreFailed, problem);
}

/// <summary>
/// Re-ACLs the profile's folder (the Files area with the profile folder as its only root): every owner, group and
/// ACE naming a mapped account. The walker journals each original descriptor before changing it; the undo writes
/// them back byte for byte.
/// </summary>
public sealed class TranslateProfileFolderStep : JobStep
{
    private const string Name_ = "files";

    public override string Name => "TranslateProfileFolder";

    public override async Task RunAsync(JobContext context)
    {
        var source = ProfileJournal.SourceOf(context);
        var result = await ProfileWalk.RunAsync(context, context.Platform.SecurityStore, [source.ProfileImagePath], Name_);
        context.SetAreaCount(ProfileWalk.Count(ReaclArea.Files, result), final: true);
        ProfileJournal.ShowProgress(context);
        context.Log.Information($"Profile folder: {result.Seen} items seen, {result.Changed} changed, {result.Failed} failed.");
    }

    public override Task UndoAsync(JobContext context)
    {
        var journal = context.Journal.PathOf(ProfileWalk.UndoFile(Name_));
        if (File.Exists(journal))
        {
            var reverted = UndoJournal.Revert(context.Platform.SecurityStore, journal);
            foreach (var error in reverted.Errors)
            {
                context.Log.Warning($"{error.Path}: {error.Message}");
            }
            context.ReportRestored(new AreaCount(ReaclArea.Files, reverted.Restored + reverted.Errors.Count, reverted.Restored, reverted.Errors.Count));
        }
        return Task.CompletedTask;
    }
}

/// <summary>
/// Re-ACLs the profile's registry hives (the UserHives area limited to this profile): NTUSER.DAT and UsrClass.dat,
/// loaded under a temporary key while their owner is signed out, walked as registry keys, then unloaded with
/// retries; a hive that stays loaded is reported, never left silently. The undo journal names keys as Windows
/// loads them for their user (<c>HKU\&lt;sid&gt;\…</c>), so the undo reopens the same hives later, loaded by their
/// user (the source account, or the destination account after the hand-over) or not. While the hives are open it
/// also schedules the re-registration of the user's AppX packages at the first sign-in (<see cref="AppxReregistration"/>).
/// </summary>
public sealed class TranslateProfileHivesStep : JobStep
{
    private const string Name_ = "hives";

    public override string Name => "TranslateProfileHives";

    public override async Task RunAsync(JobContext context)
    {
        var source = ProfileJournal.SourceOf(context);
        var session = context.Platform.Profiles.Hives.Open([source], ProfileJournal.DestinationOf(context));
        WalkResult result;
        var failed = 0;
        var stuck = 0;
        try
        {
            foreach (var (root, error) in session.Failed)
            {
                failed++;
                context.Report(new ItemResult(root, ItemOutcome.Failed, error.Message));
                context.Log.Warning(error.Message);
            }
            if (session.Failed.TryGetValue(UserHives.UserRoot(source.Sid), out var notLoaded))
            {
                // The hand-over would give the destination account a hive it cannot open: a temporary profile.
                throw NotMigrated(context, $"{notLoaded.Message} The profile is not handed over.");
            }
            result = await ProfileWalk.RunAsync(context, session.Store, [.. session.Mounts.Select(m => m.Root)], Name_);
            if (result.Errors.FirstOrDefault(e => e.Path.Equals(UserHives.UserRoot(source.Sid), StringComparison.OrdinalIgnoreCase)) is { } whole)
            {
                throw NotMigrated(context, $"The profile's registry hive could not be re-ACLed: {whole.Message} The profile is not handed over.");
            }
            if (!context.Assignment.DryRun)
            {
                AppxReregistration.Schedule(context, session, source.Sid);
            }
        }
        finally
        {
            foreach (var problem in session.Close())
            {
                stuck++;
                context.ReportFailure(new ItemResult(source.ProfileImagePath, ItemOutcome.Failed, problem));
                context.Log.Warning(problem);
            }
        }
        if (stuck > 0)
        {
            // A hive still loaded under HKU\Rehome_<sid> keeps its file open: the owner would get a temporary profile.
            throw NotMigrated(context, $"A registry hive of {source.ProfileImagePath} stays loaded after the re-ACL, so the profile is not handed over. Run the job again once it is unloaded (a restart unloads it).");
        }
        context.SetAreaCount(ProfileWalk.Count(ReaclArea.UserHives, result, failed), final: true);
        ProfileJournal.ShowProgress(context);
        context.Log.Information($"Profile hives: {session.Mounts.Count} hives, {result.Seen} keys seen, {result.Changed} changed, {result.Failed + failed} failed.");
    }

    private static StepFailedException NotMigrated(JobContext context, string message)
    {
        context.Log.Error(message);
        return new StepFailedException("ProfileHiveNotMigrated", message);
    }

    public override Task UndoAsync(JobContext context)
    {
        var journal = context.Journal.PathOf(ProfileWalk.UndoFile(Name_));
        if (context.Journal.Get(ProfileJournal.Source) is null || (!File.Exists(journal) && !AppxReregistration.Scheduled(context)))
        {
            return Task.CompletedTask;
        }
        var source = ProfileJournal.SourceOf(context);
        using var session = context.Platform.Profiles.Hives.Open([source], ProfileJournal.DestinationOf(context));
        foreach (var (_, error) in session.Failed)
        {
            context.Log.Warning(error.Message);
        }
        var (restored, failed) = (0, session.Failed.Count);
        if (File.Exists(journal))
        {
            var reverted = UndoJournal.Revert(session.Store, journal);
            foreach (var error in reverted.Errors)
            {
                context.Log.Warning($"{error.Path}: {error.Message}");
            }
            (restored, failed) = (reverted.Restored, failed + reverted.Errors.Count);
        }
        AppxReregistration.Undo(context, session);
        var stuck = session.Close();
        foreach (var problem in stuck)
        {
            context.Log.Warning(problem);
        }
        // A hive that could not be opened, or stays loaded, is not restored as it should be: said, never a clean revert.
        context.ReportRestored(new AreaCount(ReaclArea.UserHives, restored + failed, restored, failed,
            stuck.Count > 0 ? string.Join(" ", stuck) : null));
        return Task.CompletedTask;
    }
}
