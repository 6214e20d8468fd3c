using System.Text.Json;
using Rehome.Agent.Platform;
using Rehome.Protocol;
using Rehome.Security.Sids;

namespace Rehome.Agent.Jobs.MigrateUserProfile;

/// <summary>The ProfileList entries as they were before the hand-over, journaled whole before anything changes.</summary>
/// <param name="Source">The profile's entry (<c>&lt;sid&gt;</c> or <c>&lt;sid&gt;.bak</c>).</param>
/// <param name="Temporary">The temporary profile's entry beside a <c>.bak</c> one.</param>
/// <param name="DestinationBefore">The destination account's entry, when it had one (an earlier attempt's).</param>
public sealed record ProfileListBefore(ProfileListEntry Source, ProfileListEntry? Temporary, ProfileListEntry? DestinationBefore);

/// <summary>
/// Hands the ProfileList entry to the destination account: the whole entry (every value with its type and bytes:
/// ProfileImagePath, Flags, State, RefCount, LocalProfileLoadTime*, …) is copied to the destination SID's key with
/// Sid rewritten (see <see cref="ProfileListRules.ForDestination"/>), then the source entry (and a temporary one
/// beside a <c>.bak</c>) is removed, so that the source account cannot load a profile it no longer owns. Every entry
/// it touches is journaled first; the undo writes each back byte for byte and removes the destination's.
/// </summary>
public sealed class CopyProfileListStep : JobStep
{
    private const string BeforeKey = "profile.list.before";

    public override string Name => "CopyProfileList";

    public override async Task<bool> IsAlreadyDoneAsync(JobContext context)
    {
        if (Before(context) is not { } before || ProfileJournal.DestinationOf(context) is not { } destination)
        {
            return false;
        }
        var profiles = context.Platform.Profiles;
        var intended = ProfileListRules.ForDestination(before.Source, SecurityIdentifier.Parse(destination));
        return await profiles.GetEntryAsync(destination, context.Cancellation) is { } written && written.SameValuesAs(intended)
            && await profiles.GetEntryAsync(before.Source.KeyName, context.Cancellation) is null
            && (before.Temporary is null || await profiles.GetEntryAsync(before.Temporary.KeyName, context.Cancellation) is null);
    }

    public override async Task RunAsync(JobContext context)
    {
        var profiles = context.Platform.Profiles;
        var destination = ProfileJournal.DestinationOf(context) ?? throw new InvalidOperationException("No destination account mapped yet.");
        var before = Before(context);
        if (before is null)
        {
            var entryName = context.Journal.Get(ProfileJournal.EntryName)!;
            var source = await profiles.GetEntryAsync(entryName, context.Cancellation)
                ?? throw new StepFailedException("ProfileNotFound", $"The ProfileList entry {entryName} disappeared while the job ran.");
            var temporary = context.Journal.Get(ProfileJournal.TemporaryName) is { } name ? await profiles.GetEntryAsync(name, context.Cancellation) : null;
            before = new ProfileListBefore(source, temporary, await profiles.GetEntryAsync(destination, context.Cancellation));
            if (!context.Assignment.DryRun)
            {
                context.Journal.Set(BeforeKey, JsonSerializer.Serialize(before, AgentProtocol.JsonOptions));
            }
        }
        var intended = ProfileListRules.ForDestination(before.Source, SecurityIdentifier.Parse(destination));
        var folder = before.Source.ProfileImagePath;
        if (context.Assignment.DryRun)
        {
            context.SetAreaCount(new AreaCount(ReaclArea.ProfileList, 1, 1, 0), final: true);
            context.Log.Information($"Dry run: ProfileList would hand {folder} from {before.Source.KeyName} to {destination} ({intended.Values.Count} values).");
            return;
        }
        await profiles.WriteEntryAsync(intended, context.Cancellation);
        await profiles.RemoveEntryAsync(before.Source.KeyName, context.Cancellation);
        if (before.Temporary is { } temporaryEntry)
        {
            await profiles.RemoveEntryAsync(temporaryEntry.KeyName, context.Cancellation);
        }
        context.SetAreaCount(new AreaCount(ReaclArea.ProfileList, 1, 1, 0), final: true);
        ProfileJournal.ShowProgress(context);
        context.Report(new ItemResult($"ProfileList: {folder}", ItemOutcome.Changed, null));
        context.Log.Information($"ProfileList: {folder} now belongs to {destination} ({intended.Values.Count} values copied from {before.Source.KeyName}).");
    }

    public override async Task UndoAsync(JobContext context)
    {
        if (Before(context) is not { } before)
        {
            return;
        }
        var profiles = context.Platform.Profiles;
        await profiles.WriteEntryAsync(before.Source, CancellationToken.None);
        if (before.Temporary is { } temporary)
        {
            await profiles.WriteEntryAsync(temporary, CancellationToken.None);
        }
        if (ProfileJournal.DestinationOf(context) is { } destination)
        {
            if (before.DestinationBefore is { } earlier)
            {
                await profiles.WriteEntryAsync(earlier, CancellationToken.None);
            }
            else
            {
                await profiles.RemoveEntryAsync(destination, CancellationToken.None);
            }
        }
        context.ReportRestored(new AreaCount(ReaclArea.ProfileList, 1, 1, 0));
        context.Log.Information($"ProfileList: {before.Source.KeyName} restored as it was.");
    }

    private static ProfileListBefore? Before(JobContext context) =>
        context.Journal.Get(BeforeKey) is { } saved ? JsonSerializer.Deserialize<ProfileListBefore>(saved, AgentProtocol.JsonOptions) : null;
}
