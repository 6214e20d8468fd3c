using Rehome.Agent.Platform;
using Rehome.Security.Sids;

namespace Rehome.Agent.Jobs.MigrateUserProfile;

/// <summary>Which ProfileList entry holds a user's profile, and what is refused, with a stable code and a sentence.</summary>
/// <param name="Source">The entry of the profile to hand over.</param>
/// <param name="Temporary">The temporary profile's entry Windows made beside a <c>.bak</c> one (removed with the source).</param>
/// <param name="RefusalCode">Why there is no source, for automation.</param>
/// <param name="Refusal">Why there is no source, for a person.</param>
public sealed record ProfileChoice(ProfileListEntry? Source, ProfileListEntry? Temporary, string? RefusalCode = null, string? Refusal = null);

/// <summary>
/// ProfileList as Windows keeps it. When Windows cannot load a profile it renames its entry <c>&lt;sid&gt;.bak</c>
/// (State bit 0x8000) and signs the user in with a temporary profile under a new <c>&lt;sid&gt;</c> entry (State
/// bit 0x0800), which it deletes at sign-out. Windows' own repair keeps the <c>.bak</c> entry, drops the temporary
/// one, clears those bits and RefCount: the hand-over does the same, so the destination account gets the real
/// profile, not the temporary one.
/// </summary>
public static class ProfileListRules
{
    public static ProfileChoice Choose(string user, string sid, ProfileListEntry? entry, ProfileListEntry? backup)
    {
        if (backup is not null)
        {
            return backup.ProfileImagePath is null
                ? new ProfileChoice(null, null, "ProfileNotFound", $"The ProfileList entry {backup.KeyName} of {user} names no profile folder.")
                : new ProfileChoice(backup, entry);
        }
        if (entry is null)
        {
            return new ProfileChoice(null, null, "ProfileNotFound", $"{user} ({sid}) has no profile on this device (no ProfileList entry).");
        }
        if ((entry.State & ProfileListEntry.TemporaryState) != 0)
        {
            return new ProfileChoice(null, null, "ProfileTemporary",
                $"{user} has only a temporary profile on this device (State 0x{entry.State:x}), which Windows deletes at sign-out: there is nothing to hand over.");
        }
        return entry.ProfileImagePath is null
            ? new ProfileChoice(null, null, "ProfileNotFound", $"The ProfileList entry {entry.KeyName} of {user} names no profile folder.")
            : new ProfileChoice(entry, null);
    }

    /// <summary>
    /// The destination account's entry: every value of <paramref name="source"/> with its type and bytes, in order,
    /// but Sid (the destination SID) and, for a <c>.bak</c> entry, State without the backup and temporary bits and
    /// RefCount 0 (no session holds the profile: its owner is signed out).
    /// </summary>
    public static ProfileListEntry ForDestination(ProfileListEntry source, SecurityIdentifier destination)
    {
        var entry = new ProfileListEntry(destination.ToString(), source.Values)
            .With(new RegistryValue(source.Value("Sid")?.Name ?? "Sid", RegistryValue.Binary, destination.ToArray()));
        if (source.IsBackup)
        {
            entry = entry.With(RegistryValue.OfDWord(source.Value("State")?.Name ?? "State", source.State & ~(ProfileListEntry.BackupState | ProfileListEntry.TemporaryState)));
            if (source.Value("RefCount") is { } refCount)
            {
                entry = entry.With(RegistryValue.OfDWord(refCount.Name, 0));
            }
        }
        return entry;
    }

    /// <summary>
    /// Why the destination account's existing entry forbids the hand-over (null when there is none, or it is this
    /// hand-over's own, from an earlier attempt): it is the destination account's own profile, which would be orphaned.
    /// </summary>
    public static string? Conflict(ProfileListEntry? existingDestination, string sourceFolder) =>
        existingDestination?.ProfileImagePath is { } folder && !string.Equals(folder.TrimEnd('\\'), sourceFolder.TrimEnd('\\'), StringComparison.OrdinalIgnoreCase)
            ? $"The destination account {existingDestination.KeyName} already has its own profile on this device ({folder}); handing {sourceFolder} over would orphan it. Remove that profile first (System Properties, User Profiles) or leave this device's profile as it is."
            : null;
}
