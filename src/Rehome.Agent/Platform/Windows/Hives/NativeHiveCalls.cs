using System.Runtime.Versioning;

namespace Rehome.Agent.Platform.Windows;

/// <summary>
/// HKEY_USERS through advapi32: RegLoadKeyW / RegUnLoadKeyW (with SeBackupPrivilege and SeRestorePrivilege enabled
/// in the agent's token) and raw values. Only marshals: every decision is in <see cref="UserHives"/>.
/// </summary>
[SupportedOSPlatform("windows")]
internal sealed class NativeHiveCalls : IHiveCalls
{
    public bool IsLoaded(string name) => RawRegistry.Exists(NativeMethods.UsersKey, name);

    public int EnablePrivileges()
    {
        var backup = ProcessPrivileges.TryEnable("SeBackupPrivilege");
        return backup != NativeMethods.Success ? backup : ProcessPrivileges.TryEnable("SeRestorePrivilege");
    }

    public bool FileExists(string file) => File.Exists(file);

    public int Load(string name, string file) => NativeMethods.RegLoadKey(NativeMethods.UsersKey, name, file);

    public int Unload(string name) => NativeMethods.RegUnLoadKey(NativeMethods.UsersKey, name);

    public IReadOnlyList<string> SubkeyNames(string key) =>
        RawRegistry.SubkeyNames(NativeMethods.UsersKey, key, out var names) == NativeMethods.Success ? names : [];

    public RegistryValue? GetValue(string key, string name) =>
        RawRegistry.GetValue(NativeMethods.UsersKey, key, name, out var value) == NativeMethods.Success ? value : null;

    public int SetValue(string key, RegistryValue value) => RawRegistry.WriteValues(NativeMethods.UsersKey, key, [value], exactly: false);

    public int DeleteValue(string key, string name) => RawRegistry.DeleteValue(NativeMethods.UsersKey, key, name);

    public string Describe(int error) => NativeWin32Errors.Instance.Describe(error);
}
