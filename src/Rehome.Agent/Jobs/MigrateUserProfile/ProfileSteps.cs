using System.Text.Json;
using Rehome.Agent.Platform;
using Rehome.Protocol;
using Rehome.Security.Sids;

namespace Rehome.Agent.Jobs.MigrateUserProfile;

/// <summary>Finds the primary user's profile in ProfileList (by the folder of its account name).</summary>
public sealed class FindProfileStep : JobStep
{
    internal const string Key = "profile.source";
    internal const string MapFile = "profile.sidmap.json";

    public override async Task RunAsync(JobContext context)
    {
        if (context.Journal.Get(Key) is not null)
        {
            return;
        }
        var user = context.Assignment.Mapping.PrimaryUser
            ?? throw new StepFailedException("NoPrimaryUser", "The mapping names no primary user, so there is no profile to hand over.");
        var account = user.Contains('\\', StringComparison.Ordinal) ? user[(user.LastIndexOf('\\') + 1)..] : user.Split('@')[0];
        var profiles = await context.Platform.Profiles.GetAsync(context.Cancellation);
        var profile = profiles.FirstOrDefault(p => string.Equals(LastSegment(p.ProfileImagePath), account, StringComparison.OrdinalIgnoreCase))
            ?? throw new StepFailedException("ProfileNotFound", $"No profile of {user} on this device (ProfileList has {profiles.Count} profiles).");
        context.Journal.Set(Key, JsonSerializer.Serialize(profile, AgentProtocol.JsonOptions));
        context.Log.Information($"The profile of {user} is {profile.ProfileImagePath} ({profile.Sid}).");
    }

    internal static UserProfile Source(JobContext context) =>
        JsonSerializer.Deserialize<UserProfile>(context.Journal.Get(Key) ?? throw new InvalidOperationException("No profile found yet."), AgentProtocol.JsonOptions)!;

    internal static (IReadOnlyList<string> Areas, IReadOnlyList<string> Ignored) AreasOf(JobContext context) => ([Source(context).ProfileImagePath], []);

    private static string LastSegment(string path) => path.TrimEnd('\\').Split('\\')[^1];
}

/// <summary>
/// Points ProfileList at the profile for the destination account (the same folder, now owned by it), and
/// removes the source account's entry so that it cannot load a profile it no longer owns. The rollback puts
/// the source entry back.
/// </summary>
public sealed class RepointProfileStep : JobStep
{
    internal const string DestinationKey = "profile.destinationSid";

    public override async Task<bool> IsAlreadyDoneAsync(JobContext context)
    {
        var destination = context.Journal.Get(DestinationKey);
        var profiles = await context.Platform.Profiles.GetAsync(context.Cancellation);
        var source = FindProfileStep.Source(context);
        return destination is not null && profiles.Any(p => p.Sid == destination) && profiles.All(p => p.Sid != source.Sid);
    }

    public override async Task RunAsync(JobContext context)
    {
        var source = FindProfileStep.Source(context);
        var map = await Common.Identities.MapAsync(context, [], FindProfileStep.MapFile);
        if (!map.TryGetDestination(SecurityIdentifier.Parse(source.Sid), out var destination))
        {
            throw new StepFailedException("ProfileOwnerNotMapped",
                $"The profile's account {source.Sid} has no destination account: add a user mapping to the policy or check the destination directory.");
        }
        context.Journal.Set(DestinationKey, destination.ToString());
        await context.Platform.Profiles.SetAsync(destination.ToString(), source.ProfileImagePath, context.Cancellation);
        await context.Platform.Profiles.RemoveAsync(source.Sid, context.Cancellation);
        context.Report(new ItemResult($"ProfileList: {source.ProfileImagePath}", ItemOutcome.Changed, null));
        context.Log.Information($"ProfileList: {source.ProfileImagePath} now belongs to {destination}.");
    }

    public override async Task UndoAsync(JobContext context)
    {
        if (context.Journal.Get(FindProfileStep.Key) is null)
        {
            return;
        }
        var source = FindProfileStep.Source(context);
        await context.Platform.Profiles.SetAsync(source.Sid, source.ProfileImagePath, CancellationToken.None);
        if (context.Journal.Get(DestinationKey) is { } destination)
        {
            await context.Platform.Profiles.RemoveAsync(destination, CancellationToken.None);
        }
    }
}
