using System.Globalization;
using System.Text.Json;
using Rehome.Agent.Jobs.Common;
using Rehome.Agent.Platform;
using Rehome.Protocol;
using Rehome.Security.Sids;

namespace Rehome.Agent.Jobs.MigrateUserProfile;

/// <summary>What the profile job journals, by key, and the reading of it.</summary>
internal static class ProfileJournal
{
    /// <summary>The profile (owner's SID, expanded folder).</summary>
    public const string Source = "profile.source";

    /// <summary>The ProfileList entry that holds it (the SID, or <c>&lt;sid&gt;.bak</c>).</summary>
    public const string EntryName = "profile.entry";

    /// <summary>The temporary profile's entry beside a <c>.bak</c> one, when there is one.</summary>
    public const string TemporaryName = "profile.temporaryEntry";

    public const string Destination = "profile.destinationSid";
    public const string MapFile = "profile.sidmap.json";

    public static UserProfile SourceOf(JobContext context) =>
        JsonSerializer.Deserialize<UserProfile>(context.Journal.Get(Source) ?? throw new InvalidOperationException("No profile found yet."), AgentProtocol.JsonOptions)!;

    public static string? DestinationOf(JobContext context) => context.Journal.Get(Destination);

    /// <summary>The job's overall progress: the sum of its areas.</summary>
    public static void ShowProgress(JobContext context)
    {
        var areas = context.AreaCounts;
        context.SetProgress(areas.Sum(a => (long)a.Seen), areas.Sum(a => (long)a.Seen), areas.Sum(a => (long)a.Changed), areas.Sum(a => (long)a.Failed));
    }
}

/// <summary>
/// Finds the primary user's profile by the account's SID, not by a folder name: the mapping names the account
/// (<c>DOMAIN\name</c> or a UPN), the device resolves it (LookupAccountName: the source domain directly or through a
/// trust, or Windows' logon cache), and ProfileList's entry for that SID (or its <c>.bak</c>, see
/// <see cref="ProfileListRules"/>) is the profile.
/// </summary>
public sealed class FindProfileStep : JobStep
{
    public override async Task RunAsync(JobContext context)
    {
        if (context.Journal.Get(ProfileJournal.Source) is not null)
        {
            return;
        }
        var user = context.Assignment.Mapping.PrimaryUser
            ?? throw new StepFailedException("NoPrimaryUser", "The mapping names no primary user, so there is no profile to hand over.");
        var profiles = context.Platform.Profiles;
        var sid = await profiles.FindAccountSidAsync(user, context.Cancellation)
            ?? throw new StepFailedException("ProfileOwnerNotResolved",
                $"{user} cannot be resolved to a user account on this device: it must reach the source domain (directly or through a trust) or have the account in its logon cache. Check the mapping's primary user.");
        var choice = ProfileListRules.Choose(user, sid,
            await profiles.GetEntryAsync(sid, context.Cancellation),
            await profiles.GetEntryAsync(sid + ProfileListEntry.BackupSuffix, context.Cancellation));
        if (choice.Source is not { } entry)
        {
            throw new StepFailedException(choice.RefusalCode!, choice.Refusal!);
        }
        var profile = new UserProfile(sid, Environment.ExpandEnvironmentVariables(entry.ProfileImagePath!));
        if (choice.Temporary is { } temporary)
        {
            context.Journal.Set(ProfileJournal.TemporaryName, temporary.KeyName);
            context.Log.Warning($"Windows set {user}'s profile aside ({entry.KeyName}) and made a temporary one: the profile in {profile.ProfileImagePath} is handed over and the temporary entry removed, as Windows' own repair does.");
        }
        context.Journal.Set(ProfileJournal.EntryName, entry.KeyName);
        context.Journal.Set(ProfileJournal.Source, JsonSerializer.Serialize(profile, AgentProtocol.JsonOptions));
        context.Log.Information($"The profile of {user} ({sid}) is {profile.ProfileImagePath}.");
    }
}

/// <summary>
/// The profile's owner must be signed out: Windows holds a signed-in user's hives, and a profile handed over while
/// in use would be saved back over the new permissions at sign-out. While the owner's hive is loaded the job asks
/// the user to sign out and waits, up to <see cref="Limit"/> from its first wait (journaled, so a restart does not
/// extend it), then refuses with ProfileInUse. It runs before the lock: a locked session cannot be signed out of.
/// </summary>
public sealed class WaitForSignOutStep : JobStep
{
    private const string StartedKey = "profile.signOutWaitStartedAt";

    public static TimeSpan Limit { get; } = TimeSpan.FromMinutes(30);

    public static TimeSpan Poll { get; } = TimeSpan.FromSeconds(15);

    public override async Task RunAsync(JobContext context)
    {
        var source = ProfileJournal.SourceOf(context);
        var hives = context.Platform.Profiles.Hives;
        if (!hives.IsLoadedByUser(source.Sid))
        {
            return;
        }
        var started = context.Journal.Get(StartedKey) is { } saved ? DateTimeOffset.Parse(saved, CultureInfo.InvariantCulture) : context.Time.GetUtcNow();
        if (context.Journal.Get(StartedKey) is null)
        {
            context.Journal.Set(StartedKey, started.ToString("O", CultureInfo.InvariantCulture));
            await context.Session.NotifyAsync("Please sign out: your profile is being handed over to your new account, which can only be done while you are signed out.", context.Cancellation);
            context.Log.Information("The profile's owner is signed in (its hive is loaded): asked to sign out.");
        }
        context.Message = "Waiting for the profile's owner to sign out";
        while (hives.IsLoadedByUser(source.Sid))
        {
            if (context.Time.GetUtcNow() - started >= Limit)
            {
                throw new StepFailedException("ProfileInUse",
                    $"The owner of {source.ProfileImagePath} stayed signed in for {Limit.TotalMinutes:0} minutes (its registry hive is loaded): the profile cannot be handed over while in use. Run the job again once the user has signed out.");
            }
            await Task.Delay(Poll, context.Time, context.Cancellation);
        }
        context.Log.Information("The profile's owner signed out.");
    }
}

/// <summary>
/// Collects the identities the profile's folder and hives name, has the server map them, and checks that the owner
/// has a destination account whose own profile would not be orphaned, before anything changes.
/// </summary>
public sealed class MapProfileIdentitiesStep : JobStep
{
    public override string Name => "MapIdentities";

    public override Task<bool> IsAlreadyDoneAsync(JobContext context) =>
        Task.FromResult(File.Exists(context.Journal.PathOf(ProfileJournal.MapFile)) && ProfileJournal.DestinationOf(context) is not null);

    public override async Task RunAsync(JobContext context)
    {
        var source = ProfileJournal.SourceOf(context);
        var store = context.Platform.SecurityStore;
        var (sids, items) = await Task.Run(() => Identities.Collect(store, [source.ProfileImagePath], [], context.Cancellation));
        using (var session = context.Platform.Profiles.Hives.Open([source]))
        {
            var (hiveSids, hiveItems) = Identities.Collect(session.Store, [.. session.Mounts.Select(m => m.Root)], [], context.Cancellation);
            sids.UnionWith(hiveSids);
            items += hiveItems;
            foreach (var problem in session.Close())
            {
                context.Log.Warning(problem);
            }
        }
        sids.Add(source.Sid);
        context.Journal.Set("items.total", items.ToString(CultureInfo.InvariantCulture));
        context.Log.Information($"{items} items of the profile hold {sids.Count} domain identities.");
        var map = await Identities.MapAsync(context, sids, ProfileJournal.MapFile);
        if (!map.TryGetDestination(SecurityIdentifier.Parse(source.Sid), out var destination))
        {
            throw new StepFailedException("ProfileOwnerNotMapped",
                $"The profile's account {source.Sid} has no destination account: add a user mapping to the policy or check the destination directory.");
        }
        if (ProfileListRules.Conflict(await context.Platform.Profiles.GetEntryAsync(destination.ToString(), context.Cancellation), source.ProfileImagePath) is { } conflict)
        {
            throw new StepFailedException("DestinationHasProfile", conflict);
        }
        context.Journal.Set(ProfileJournal.Destination, destination.ToString());
    }
}
