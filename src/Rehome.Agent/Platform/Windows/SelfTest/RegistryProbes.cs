using System.Runtime.Versioning;
using Microsoft.Win32;

namespace Rehome.Agent.Platform.Windows.SelfTest;

/// <summary>The registry as the agent uses it: volatile keys, the boot counter, the profile list.</summary>
[SupportedOSPlatform("windows")]
internal sealed class RegistryProbes : ISelfTestProbes
{
    public IEnumerable<(string Name, Func<string> Run)> Probes(SelfTestContext context)
    {
        yield return ("registry-volatile-key", VolatileKey);
        yield return ("boot-counter", BootCounter);
        yield return ("profile-list", ProfileList);
    }

    private static string VolatileKey()
    {
        using var parent = Registry.LocalMachine.CreateSubKey(SelfTestKey.Path, writable: true);
        using (var key = parent.CreateSubKey("Volatile", writable: true, RegistryOptions.Volatile))
        {
            key.SetValue("Probe", 42, RegistryValueKind.DWord);
            if (key.GetValue("Probe") is not 42)
            {
                throw new InvalidOperationException("The value written is not the value read.");
            }
        }

        parent.DeleteSubKey("Volatile");
        return $@"HKLM\{SelfTestKey.Path}\Volatile written, read, deleted";
    }

    private static string BootCounter()
    {
        var first = WindowsBootCounter.RecordAtServiceStart();
        var second = WindowsBootCounter.Current;
        return first >= 1 && first == second
            ? $"boot {first}"
            : throw new InvalidOperationException($"The same boot counted as {first} then {second}.");
    }

    private static string ProfileList()
    {
        using var list = Registry.LocalMachine.OpenSubKey(@"SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList")
            ?? throw new InvalidOperationException("ProfileList is missing.");
        var profiles = list.GetSubKeyNames();
        var paths = profiles.Select(sid => { using var p = list.OpenSubKey(sid); return p?.GetValue("ProfileImagePath") as string; }).OfType<string>().Count();
        return $"{profiles.Length} profiles, {paths} with a path";
    }
}

/// <summary>The throwaway key the probes write under (HKLM), removed by the last probe that uses it.</summary>
internal static class SelfTestKey
{
    public const string Path = @"SOFTWARE\Rehome\SelfTest";
}
