using System.Runtime.Versioning;
using Microsoft.Win32;

namespace Rehome.Agent.Platform.Windows;

/// <summary>
/// Values under HKLM that the local accounts, the sign-in block and the settings keep or change (the agent's own
/// key, the logon policies, Winlogon). Keys are paths below HKLM (<c>SOFTWARE\…</c>). What it reads is untrusted:
/// anyone with administrator rights may have written any type there, so callers check the type they get.
/// </summary>
internal interface IRegistryValues
{
    /// <summary>The value as the registry holds it (string, int, string[] …); null when the key or value is missing.</summary>
    object? Get(string key, string name);

    /// <summary>Writes a REG_SZ value, creating the key.</summary>
    void SetString(string key, string name, string value);

    /// <summary>Deletes the value; nothing when it is missing.</summary>
    void Delete(string key, string name);

    /// <summary>The names of the key's subkeys; empty when the key is missing.</summary>
    IReadOnlyList<string> SubkeyNames(string key);
}

[SupportedOSPlatform("windows")]
internal sealed class NativeRegistryValues : IRegistryValues
{
    public object? Get(string key, string name)
    {
        using var opened = Registry.LocalMachine.OpenSubKey(key);
        return opened?.GetValue(name, null, RegistryValueOptions.DoNotExpandEnvironmentNames);
    }

    public void SetString(string key, string name, string value)
    {
        using var opened = Registry.LocalMachine.CreateSubKey(key, writable: true);
        opened.SetValue(name, value, RegistryValueKind.String);
    }

    public void Delete(string key, string name)
    {
        using var opened = Registry.LocalMachine.OpenSubKey(key, writable: true);
        opened?.DeleteValue(name, throwOnMissingValue: false);
    }

    public IReadOnlyList<string> SubkeyNames(string key)
    {
        using var opened = Registry.LocalMachine.OpenSubKey(key);
        return opened?.GetSubKeyNames() ?? [];
    }
}
