using System.Diagnostics;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using Microsoft.Win32;
using Rehome.Protocol;

namespace Rehome.Agent.Platform.Windows.Installation;

/// <summary>
/// The Windows agent's removal of itself when the server tells it to uninstall: the device key in the machine key
/// store, the service (marked for deletion: Windows removes it once the process exits), the agent's registry key, and
/// the program folder, which a running program may not delete: a detached command removes it once the process has
/// ended. Listed in docs/windows.md.
/// </summary>
[SupportedOSPlatform("windows")]
internal sealed class WindowsAgentRemoval(IServiceControl services, string programFolder, Func<string, Process?> startDetached) : IAgentRemoval
{
    public static WindowsAgentRemoval Create() => new(
        new WindowsServiceControl(), AppContext.BaseDirectory,
        arguments => Process.Start(new ProcessStartInfo(Path.Combine(Environment.SystemDirectory, "cmd.exe"), arguments)
        {
            CreateNoWindow = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        }));

    public bool RemoveDeviceKey()
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

    public IReadOnlyList<UninstalledPart> RemoveSelf()
    {
        var parts = new List<UninstalledPart>();
        if (services.Query(AgentInstaller.ServiceName) is not null)
        {
            // Marked for deletion: the service control manager removes it once this process, its last handle, exits.
            services.Delete(AgentInstaller.ServiceName);
            parts.Add(UninstalledPart.Service);
        }
        Registry.LocalMachine.DeleteSubKeyTree(@"SOFTWARE\Rehome", throwOnMissingSubKey: false);
        // A few seconds for this process to exit and release its files; the folder is quoted, and a path with a quote in
        // it (which Windows does not allow) is refused rather than passed to the shell.
        var folder = programFolder.TrimEnd(Path.DirectorySeparatorChar);
        if (!folder.Contains('"', StringComparison.Ordinal) && startDetached($"/d /c ping -n 6 127.0.0.1 >nul & rmdir /s /q \"{folder}\"") is not null)
        {
            parts.Add(UninstalledPart.Files);
        }
        return parts;
    }
}
