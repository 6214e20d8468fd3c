using System.Globalization;
using System.Runtime.Versioning;
using System.Xml;
using System.Xml.Linq;
using Microsoft.Extensions.Logging.Abstractions;
using Rehome.Agent.Jobs;
using Rehome.Protocol;

namespace Rehome.Agent.Platform.Windows;

/// <summary>
/// What a rejoin carries across besides membership: the default app associations (DISM), the BitLocker recovery
/// passwords (escrowed to the directory the device now belongs to) and how many domain logons Windows caches.
/// Tools are trusted for their exit codes only; what they write is checked, and recovery passwords never reach a
/// log or a message.
/// </summary>
[SupportedOSPlatform("windows")]
public sealed class WindowsDeviceSettings : IDeviceSettings
{
    internal const string WinlogonKey = @"SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon";
    internal const string CachedLogonsValue = "CachedLogonsCount";

    /// <summary>The most logons Windows caches (it treats larger values as this).</summary>
    internal const int MaxCachedLogons = 50;

    private const int RebootRequired = 3010;
    private const int ElevationRequired = 740;
    private const int InvalidParameter = 87;
    private const int FileNotFound = 2;
    private const int MaxDetail = 300;

    private readonly ISettingsTools tools;
    private readonly IRegistryValues registry;
    private readonly ILogger logger;

    public WindowsDeviceSettings(ILogger? logger = null)
        : this(new NativeSettingsTools(), new NativeRegistryValues(), logger)
    {
    }

    internal WindowsDeviceSettings(ISettingsTools tools, IRegistryValues registry, ILogger? logger = null)
    {
        this.tools = tools;
        this.registry = registry;
        this.logger = logger ?? NullLogger.Instance;
    }

    public async Task<bool> ExportDefaultAppAssociationsAsync(string file, CancellationToken ct)
    {
        File.Delete(file);
        var run = await tools.RunAsync(SettingsTool.Dism, ["/Online", $"/Export-DefaultAppAssociations:{file}"], ct);
        if (!DismSucceeded(run.ExitCode))
        {
            throw new StepFailedException("DefaultAppsExportFailed", DismFailure(run, "export"));
        }

        var associations = File.Exists(file) ? CountAssociations(await File.ReadAllTextAsync(file, ct)) : 0;
        if (associations is null)
        {
            throw new StepFailedException("DefaultAppsUnreadable", $"DISM exported default app associations that are not its XML ({file}).");
        }

        if (associations == 0)
        {
            File.Delete(file);
            return false;
        }

        logger.LogInformation("Exported {Count} default app association(s)", associations);
        return true;
    }

    public async Task ImportDefaultAppAssociationsAsync(string file, CancellationToken ct)
    {
        var associations = File.Exists(file) ? CountAssociations(await File.ReadAllTextAsync(file, ct)) : null;
        if (associations is not > 0)
        {
            throw new StepFailedException("DefaultAppsUnreadable", $"{file} holds no default app associations to import.");
        }

        var run = await tools.RunAsync(SettingsTool.Dism, ["/Online", $"/Import-DefaultAppAssociations:{file}"], ct);
        if (!DismSucceeded(run.ExitCode))
        {
            throw new StepFailedException("DefaultAppsImportFailed", DismFailure(run, "import"));
        }

        logger.LogInformation("Imported {Count} default app association(s) for users who sign in from now on", associations);
    }

    public async Task<int> EscrowBitLockerKeysAsync(DestinationJoin join, CancellationToken ct)
    {
        var listed = await tools.RunAsync(SettingsTool.PowerShell, ["-NoProfile", "-NonInteractive", "-Command", BitLockerInventory.Script], ct);
        var volumes = listed.ExitCode == 0 ? BitLockerInventory.Parse(listed.Output) : null;
        if (volumes is null)
        {
            throw new StepFailedException("BitLockerInventoryFailed",
                $"Listing the BitLocker volumes (Win32_EncryptableVolume) failed with exit code {listed.ExitCode}: {Detail(listed)}");
        }

        var escrowed = 0;
        var failures = new List<string>();
        foreach (var volume in BitLockerInventory.ToEscrow(volumes))
        {
            foreach (var id in volume.RecoveryPasswordIds)
            {
                var (tool, arguments) = EscrowCommand(join.Kind, volume.MountPoint, id);
                var run = await tools.RunAsync(tool, arguments, ct);
                if (run.ExitCode == 0)
                {
                    escrowed++;
                    logger.LogInformation("Recovery password protector {ProtectorId} of {Volume} backed up to {Directory}", id, volume.MountPoint, Directory(join.Kind));
                }
                else
                {
                    failures.Add($"{volume.MountPoint} {id}: exit code {run.ExitCode} (0x{run.ExitCode:X8}) {Detail(run)}");
                }
            }
        }

        if (failures.Count > 0)
        {
            throw new StepFailedException("BitLockerEscrowFailed",
                $"{failures.Count} BitLocker recovery password(s) not backed up to {Directory(join.Kind)} ({escrowed} were): {string.Join("; ", failures)}");
        }

        return escrowed;
    }

    public Task<int?> GetCachedLogonsCountAsync(CancellationToken ct)
    {
        var value = registry.Get(WinlogonKey, CachedLogonsValue);
        var count = CachedLogons(value);
        if (value is not null && count is null)
        {
            logger.LogWarning("CachedLogonsCount holds something that is not a count; it reads as unset");
        }

        return Task.FromResult(count);
    }

    /// <summary>Writes the count as REG_SZ (the type Windows reads); null deletes the value (Windows' default then applies).</summary>
    public Task SetCachedLogonsCountAsync(int? count, CancellationToken ct)
    {
        if (count is null)
        {
            registry.Delete(WinlogonKey, CachedLogonsValue);
            return Task.CompletedTask;
        }

        ArgumentOutOfRangeException.ThrowIfNegative(count.Value, nameof(count));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count.Value, MaxCachedLogons, nameof(count));
        registry.SetString(WinlogonKey, CachedLogonsValue, count.Value.ToString(CultureInfo.InvariantCulture));
        return Task.CompletedTask;
    }

    /// <summary>
    /// CachedLogonsCount as Windows means it: a REG_SZ of digits (a REG_DWORD someone wrote is taken too); anything
    /// else is no count.
    /// </summary>
    internal static int? CachedLogons(object? value) => value switch
    {
        string text when int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var count) => count,
        int count when count >= 0 => count,
        _ => null,
    };

    /// <summary>The Association elements of DISM's export; null when it is not that XML (no DTDs are read).</summary>
    internal static int? CountAssociations(string xml)
    {
        try
        {
            var document = XDocument.Parse(xml.TrimStart('\uFEFF'));
            return document.Root?.Name.LocalName == "DefaultAssociations" ? document.Root.Elements("Association").Count() : null;
        }
        catch (XmlException)
        {
            return null;
        }
    }

    /// <summary>Where the recovery passwords of a device joined as <paramref name="kind"/> are backed up, and with what.</summary>
    internal static (SettingsTool Tool, IReadOnlyList<string> Arguments) EscrowCommand(JoinKind kind, string mountPoint, string protectorId) => kind switch
    {
        // mountPoint and protectorId are checked by BitLockerInventory (a drive letter, a GUID) before they get here.
        JoinKind.EntraId => (SettingsTool.PowerShell,
            ["-NoProfile", "-NonInteractive", "-Command", $"BackupToAAD-BitLockerKeyProtector -MountPoint '{mountPoint}' -KeyProtectorId '{protectorId}' | Out-Null"]),
        _ => (SettingsTool.ManageBde, ["-protectors", "-adbackup", mountPoint, "-id", protectorId]),
    };

    internal static bool DismSucceeded(int exitCode) => exitCode is 0 or RebootRequired;

    internal static string DismFailure(ToolResult run, string what)
    {
        var why = run.ExitCode switch
        {
            ElevationRequired => "DISM needs an elevated administrator (the agent runs as LocalSystem)",
            InvalidParameter => "DISM refused its arguments",
            FileNotFound => "DISM did not find the file",
            _ => "DISM failed",
        };
        return $"{why}: the {what} of default app associations exited with code {run.ExitCode} (0x{run.ExitCode:X8}). {Detail(run)}".Trim();
    }

    private static string Directory(JoinKind kind) => kind == JoinKind.EntraId ? "Entra ID" : "Active Directory";

    /// <summary>What a tool wrote, redacted and cut short: for the job's message, not for decisions.</summary>
    private static string Detail(ToolResult run)
    {
        var text = BitLockerInventory.Redact((string.IsNullOrWhiteSpace(run.Error) ? run.Output : run.Error).Trim());
        return text.Length <= MaxDetail ? text : text[..MaxDetail] + "…";
    }
}
