using System.Diagnostics;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using Microsoft.Win32;
using Rehome.Agent.Uninstall;
using Rehome.Protocol;

namespace Rehome.Agent.Platform.Windows.Installation;

/// <summary>The system calls a remote uninstall makes on Windows besides the service control manager, so that each decision is tested with a fake.</summary>
internal interface IAgentRemovalCalls
{
    /// <summary>Deletes the device key from the machine key store; false when there was none.</summary>
    bool DeleteDeviceKey();

    /// <summary>The executable the service runs (its command line's program), or null when no such service is registered.</summary>
    string? ServiceExecutable(string serviceName);

    /// <summary>Deletes <c>HKLM\SOFTWARE\Rehome</c> (the boot counter).</summary>
    void DeleteAgentKey();

    /// <summary>Starts <c>cmd.exe</c> with <paramref name="arguments"/>, detached; false when it did not start.</summary>
    bool StartDetached(string arguments);
}

/// <summary>
/// The Windows agent's removal of itself when the server tells it to uninstall: the device key in the machine key
/// store, the service (marked for deletion: Windows removes it once the process exits), the agent's registry key,
/// <c>%ProgramData%\Rehome</c> (through <see cref="DataRoot"/>, as the local uninstall), and its own files in the
/// program folder the service runs. A running program may not delete its files: a detached script deletes them once
/// the process has ended, and only those the agent's deps.json names, only when this process runs from that folder
/// (an agent started from Downloads or a tools folder removes nothing there). Listed in docs/windows.md.
/// </summary>
[SupportedOSPlatform("windows")]
internal sealed class WindowsAgentRemoval(IServiceControl services, IAgentRemovalCalls calls, string dataRoot, string runningFolder, string scriptFolder) : IAgentRemoval
{
    private const string ApplicationName = "rehome-agent";

    public static WindowsAgentRemoval Create() =>
        new(new WindowsServiceControl(), new WindowsAgentRemovalCalls(), ProtectedFolders.DefaultRoot, AppContext.BaseDirectory, Path.GetTempPath());

    public string? DataRoot => dataRoot;

    public bool RemoveDeviceKey() => calls.DeleteDeviceKey();

    public IReadOnlyList<UninstalledPart> RemoveSelf()
    {
        var parts = new List<UninstalledPart>();
        // Read before the service goes: the installed program folder is the one its command line names.
        var executable = calls.ServiceExecutable(AgentInstaller.ServiceName);
        if (services.Query(AgentInstaller.ServiceName) is not null)
        {
            // Marked for deletion: the service control manager removes it once this process, its last handle, exits.
            services.Delete(AgentInstaller.ServiceName);
            parts.Add(UninstalledPart.Service);
        }
        calls.DeleteAgentKey();
        if (InstalledFolder(executable) is { } folder && AgentProgramFiles.In(folder, ApplicationName) is { Count: > 0 } files)
        {
            var script = Path.Combine(scriptFolder, $"rehome-agent-removal-{Guid.NewGuid():N}.cmd");
            using (var writer = new StreamWriter(new FileStream(script, FileMode.CreateNew, FileAccess.Write)))
            {
                writer.Write(AgentProgramFiles.Script(folder, files));
            }
            if (calls.StartDetached($"/d /c \"{script}\""))
            {
                parts.Add(UninstalledPart.Files);
            }
        }
        return parts;
    }

    /// <summary>The service's folder when this process runs from it; null otherwise (nothing there is removed).</summary>
    private string? InstalledFolder(string? executable)
    {
        if (string.IsNullOrWhiteSpace(executable) || Path.GetDirectoryName(Path.GetFullPath(executable)) is not { } folder)
        {
            return null;
        }
        return string.Equals(Path.TrimEndingDirectorySeparator(folder), Path.TrimEndingDirectorySeparator(Path.GetFullPath(runningFolder)), StringComparison.OrdinalIgnoreCase)
            ? folder
            : null;
    }
}

/// <summary>The real calls: CNG, the registry, cmd.exe.</summary>
[SupportedOSPlatform("windows")]
internal sealed class WindowsAgentRemovalCalls : IAgentRemovalCalls
{
    public bool DeleteDeviceKey()
    {
        var removed = false;
        foreach (var provider in new[] { DeviceKeyProviders.Platform, DeviceKeyProviders.Software })
        {
            try
            {
                if (CngKey.Exists(DeviceKeyProviders.KeyName, new CngProvider(provider), CngKeyOpenOptions.MachineKey))
                {
                    using var key = CngKey.Open(DeviceKeyProviders.KeyName, new CngProvider(provider), CngKeyOpenOptions.MachineKey);
                    key.Delete();
                    removed = true;
                }
            }
            catch (CryptographicException)
            {
                // No TPM provider on this device: nothing kept there.
            }
        }
        return removed;
    }

    public string? ServiceExecutable(string serviceName)
    {
        using var key = Registry.LocalMachine.OpenSubKey($@"SYSTEM\CurrentControlSet\Services\{serviceName}");
        return key?.GetValue("ImagePath") is string commandLine ? ProgramOf(commandLine) : null;
    }

    public void DeleteAgentKey() => Registry.LocalMachine.DeleteSubKeyTree(@"SOFTWARE\Rehome", throwOnMissingSubKey: false);

    public bool StartDetached(string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(Path.Combine(Environment.SystemDirectory, "cmd.exe"), arguments)
        {
            CreateNoWindow = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        });
        return process is not null;
    }

    /// <summary>The program of a service command line: the quoted part (the installer quotes it), else all of it.</summary>
    internal static string ProgramOf(string commandLine)
    {
        var trimmed = commandLine.Trim();
        return trimmed.StartsWith('"') && trimmed.IndexOf('"', 1) is var end and > 0 ? trimmed[1..end] : trimmed;
    }
}
