using System.Runtime.Versioning;
using System.Security.Principal;
using Microsoft.Win32;

namespace Rehome.Agent.Platform.Windows;

/// <summary>
/// ProfileList (<c>HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList</c>): one subkey per SID with the
/// profile's folder. Only the entries change; the profile folders are not touched.
/// </summary>
[SupportedOSPlatform("windows")]
internal sealed class WindowsProfiles : IUserProfiles
{
    private const string ProfileListPath = @"SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList";

    public Task<IReadOnlyList<UserProfile>> GetAsync(CancellationToken ct) => Task.FromResult(Read());

    public Task SetAsync(string sid, string profileImagePath, CancellationToken ct)
    {
        var identifier = new SecurityIdentifier(sid);
        var binary = new byte[identifier.BinaryLength];
        identifier.GetBinaryForm(binary, 0);
        using var profile = Registry.LocalMachine.CreateSubKey($@"{ProfileListPath}\{identifier.Value}", writable: true);
        profile.SetValue("ProfileImagePath", profileImagePath, RegistryValueKind.ExpandString);
        profile.SetValue("Sid", binary, RegistryValueKind.Binary);
        // A new entry gets the values Windows expects of a profile that is not loaded; existing ones keep theirs.
        if (profile.GetValue("Flags") is null)
        {
            profile.SetValue("Flags", 0, RegistryValueKind.DWord);
        }

        if (profile.GetValue("State") is null)
        {
            profile.SetValue("State", 0, RegistryValueKind.DWord);
        }

        return Task.CompletedTask;
    }

    public Task RemoveAsync(string sid, CancellationToken ct)
    {
        using var profileList = Registry.LocalMachine.OpenSubKey(ProfileListPath, writable: true);
        profileList?.DeleteSubKeyTree(new SecurityIdentifier(sid).Value, throwOnMissingSubKey: false);
        return Task.CompletedTask;
    }

    internal static IReadOnlyList<UserProfile> Read()
    {
        using var profileList = Registry.LocalMachine.OpenSubKey(ProfileListPath)
            ?? throw new InvalidOperationException($@"HKLM\{ProfileListPath} is missing.");
        var profiles = new List<UserProfile>();
        foreach (var name in profileList.GetSubKeyNames())
        {
            // Skips leftovers such as "<sid>.bak", which are not profiles Windows loads.
            if (!IsSid(name))
            {
                continue;
            }

            using var profile = profileList.OpenSubKey(name);
            if (profile?.GetValue("ProfileImagePath") is string path)
            {
                profiles.Add(new UserProfile(name, path));
            }
        }

        return profiles;
    }

    private static bool IsSid(string name)
    {
        try
        {
            _ = new SecurityIdentifier(name);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
