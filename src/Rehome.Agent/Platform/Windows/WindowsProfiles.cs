using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Rehome.Security.Sids;

namespace Rehome.Agent.Platform.Windows;

/// <summary>The native seam of ProfileList and account names; each member answers a Win32 error (0 is success).</summary>
internal interface IProfileListCalls
{
    /// <summary>The subkeys of ProfileList.</summary>
    int EntryNames(out IReadOnlyList<string> names);

    /// <summary>Every value of the entry, raw (2 when the entry is missing).</summary>
    int ReadEntry(string name, out IReadOnlyList<RegistryValue> values);

    /// <summary>Creates the entry when missing and makes its values exactly <paramref name="values"/>.</summary>
    int WriteEntry(string name, IReadOnlyList<RegistryValue> values);

    /// <summary>Deletes the entry and anything under it; 0 when it is gone.</summary>
    int DeleteEntry(string name);

    /// <summary>LookupAccountNameW on this computer; <paramref name="use"/> is the SID_NAME_USE (1: a user).</summary>
    int LookupAccount(string account, out string? sid, out int use);

    /// <summary>Windows' text for an error code.</summary>
    string Describe(int error);

    /// <summary>ExpandEnvironmentStrings (ProfileImagePath is REG_EXPAND_SZ, e.g. <c>%SystemDrive%\Users\…</c>).</summary>
    string Expand(string path);
}

/// <summary>
/// ProfileList (<c>HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList</c>): one subkey per SID (or
/// <c>&lt;SID&gt;.bak</c>) whose values are read and written whole, raw, so a copy and an undo are byte for byte;
/// account names resolved with LookupAccountNameW; the user hives through <see cref="UserHives"/>. Every decision
/// here runs on any OS against a fake seam.
/// </summary>
internal sealed class WindowsProfiles(IProfileListCalls calls, Func<WindowsProfiles, UserHives> hives) : IUserProfiles
{
    public const string ProfileListPath = @"SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList";
    private const int SidTypeUser = 1;
    private const int Success = 0;
    private const int FileNotFound = 2;
    private UserHives? userHives;

    public UserHives Hives => userHives ??= hives(this);

    public Task<IReadOnlyList<UserProfile>> GetAsync(CancellationToken ct) => Task.FromResult(Read());

    public IReadOnlyList<UserProfile> Read()
    {
        Check(calls.EntryNames(out var names), $@"HKLM\{ProfileListPath}");
        var profiles = new List<UserProfile>();
        // "<sid>.bak" entries are profiles Windows set aside, not ones it loads.
        foreach (var name in names.Where(n => SecurityIdentifier.TryParse(n, out _)))
        {
            if (calls.ReadEntry(name, out var values) == Success
                && new ProfileListEntry(name, values).ProfileImagePath is { } path)
            {
                profiles.Add(new UserProfile(name, calls.Expand(path)));
            }
        }

        return profiles;
    }

    public Task<ProfileListEntry?> GetEntryAsync(string keyName, CancellationToken ct)
    {
        var error = calls.ReadEntry(keyName, out var values);
        if (error == FileNotFound)
        {
            return Task.FromResult<ProfileListEntry?>(null);
        }

        Check(error, $@"ProfileList\{keyName}");
        return Task.FromResult<ProfileListEntry?>(new ProfileListEntry(keyName, values));
    }

    public Task WriteEntryAsync(ProfileListEntry entry, CancellationToken ct)
    {
        Check(calls.WriteEntry(entry.KeyName, entry.Values), $@"ProfileList\{entry.KeyName}");
        return Task.CompletedTask;
    }

    public Task RemoveEntryAsync(string keyName, CancellationToken ct)
    {
        Check(calls.DeleteEntry(keyName), $@"ProfileList\{keyName}");
        return Task.CompletedTask;
    }

    public Task<string?> FindAccountSidAsync(string account, CancellationToken ct) =>
        Task.FromResult(calls.LookupAccount(account, out var sid, out var use) == Success && use == SidTypeUser ? sid : null);

    private void Check(int error, string what)
    {
        if (error != Success)
        {
            throw new System.ComponentModel.Win32Exception(error, $"{what}: {calls.Describe(error)} ({error})");
        }
    }
}

[SupportedOSPlatform("windows")]
internal sealed class NativeProfileListCalls : IProfileListCalls
{
    public int EntryNames(out IReadOnlyList<string> names) => RawRegistry.SubkeyNames(NativeMethods.LocalMachineKey, WindowsProfiles.ProfileListPath, out names);

    public int ReadEntry(string name, out IReadOnlyList<RegistryValue> values) =>
        RawRegistry.ReadValues(NativeMethods.LocalMachineKey, $@"{WindowsProfiles.ProfileListPath}\{name}", out values);

    public int WriteEntry(string name, IReadOnlyList<RegistryValue> values) =>
        RawRegistry.WriteValues(NativeMethods.LocalMachineKey, $@"{WindowsProfiles.ProfileListPath}\{name}", values, exactly: true);

    public int DeleteEntry(string name) => RawRegistry.DeleteTree(NativeMethods.LocalMachineKey, $@"{WindowsProfiles.ProfileListPath}\{name}");

    public int LookupAccount(string account, out string? sid, out int use)
    {
        sid = null;
        use = 0;
        int sidLength = 0, domainLength = 0;
        _ = NativeMethods.SidOfAccountName(null, account, null, ref sidLength, null, ref domainLength, out _);
        var error = Marshal.GetLastPInvokeError();
        if (error != NativeMethods.ErrorInsufficientBuffer)
        {
            return error == NativeMethods.Success ? NativeMethods.ErrorInsufficientBuffer : error;
        }

        var sidBuffer = new byte[sidLength];
        var domainBuffer = new char[domainLength];
        if (!NativeMethods.SidOfAccountName(null, account, sidBuffer, ref sidLength, domainBuffer, ref domainLength, out use))
        {
            return Marshal.GetLastPInvokeError();
        }

        sid = SecurityIdentifier.FromBinary(sidBuffer).ToString();
        return NativeMethods.Success;
    }

    public string Expand(string path) => Environment.ExpandEnvironmentVariables(path);

    public string Describe(int error) => NativeWin32Errors.Instance.Describe(error);
}
