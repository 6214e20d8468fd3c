using System.Management;
using System.Runtime.Versioning;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Win32;
using Rehome.Agent.Jobs;
using Rehome.Agent.Platform.Windows.Areas;
using Rehome.Protocol;
using Rehome.Security.Stores;

namespace Rehome.Agent.Platform.Windows;

/// <summary>
/// The device the agent's service runs on, composed by concern: membership (<see cref="WindowsMembership"/>),
/// power (<see cref="WindowsPower"/>), profiles (<see cref="WindowsProfiles"/>), the security store, hardware
/// identity through WMI; local accounts and settings come from their own classes. The service runs as LocalSystem;
/// docs/windows.md lists what each call needs.
/// </summary>
[SupportedOSPlatform("windows")]
public sealed class WindowsDevicePlatform : IDevicePlatform
{
    private const string CurrentVersionPath = @"SOFTWARE\Microsoft\Windows NT\CurrentVersion";

    private readonly WindowsMembership membership;
    private readonly WindowsProfiles profiles;
    private readonly string stateFolder;
    private readonly Lazy<ISecurityStore> securityStore = new(() => new WindowsPathSecurityStore(new WindowsSecurityStore(includeSacl: true)));

    /// <param name="accounts">Local Administrators and the break-glass account.</param>
    /// <param name="settings">Default apps, BitLocker keys, cached logons.</param>
    /// <param name="logger">Where the platform says what it did (no secrets).</param>
    /// <param name="stagingFolder">Where staged join data waits; <c>%ProgramData%\Rehome\staging</c> by default.</param>
    /// <param name="stateFolder">The agent's protected folder (<see cref="AgentOptions.StateFolder"/>); its default when null.</param>
    public WindowsDevicePlatform(ILocalAccounts accounts, IDeviceSettings settings, ILogger? logger = null, string? stagingFolder = null, string? stateFolder = null)
    {
        this.stateFolder = stateFolder ?? new AgentOptions().StateFolder;
        var log = logger ?? NullLogger.Instance;
        var system = NativeWindows.Create();
        var staging = new WindowsJoinStaging(stagingFolder ?? WindowsJoinStaging.DefaultFolder, new WindowsStagingProtection());
        var windowsFolder = Environment.GetFolderPath(Environment.SpecialFolder.Windows);
        membership = new WindowsMembership(system, staging, () => WindowsBootCounter.Current, windowsFolder, log);
        Power = new WindowsPower(system, () => WindowsBootCounter.Current, log);
        Accounts = accounts;
        Settings = settings;
        Identity = new WindowsDeviceIdentity(log);
        // Unload retries really wait: handles to a hive's keys close a moment after their last use.
        profiles = new WindowsProfiles(new NativeProfileListCalls(),
            list => new UserHives(new NativeHiveCalls(), SecurityStore, list.Read, Thread.Sleep));
    }

    public Enrollment.IDeviceIdentity Identity { get; }

    public IDeviceMembership Membership => membership;

    public IDevicePower Power { get; }

    public ILocalAccounts Accounts { get; }

    public IUserProfiles Profiles => profiles;

    public IDeviceSettings Settings { get; }

    /// <summary>Created at first use: it enables the backup, restore, security and take-ownership privileges.</summary>
    public ISecurityStore SecurityStore => securityStore.Value;

    public IDeviceAreas Areas => new DeviceAreaSet(SecurityStore, FixedVolumes, new Dictionary<ReaclArea, Func<JobPolicy, OpenedArea>>
    {
        [ReaclArea.LocalGroups] = _ => WindowsLocalGroups.Open(),
        [ReaclArea.UserRights] = _ => WindowsUserRights.Open(),
        [ReaclArea.Shares] = WindowsAreas.Shares,
        [ReaclArea.Services] = policy => WindowsAreas.Services(SecurityStore, policy),
        [ReaclArea.Printers] = WindowsAreas.Printers,
        [ReaclArea.ScheduledTasks] = policy => WindowsAreas.ScheduledTasks(stateFolder, policy),
        [ReaclArea.UserHives] = _ => profiles.Hives.OpenArea(),
    });

    private static IReadOnlyList<string> FixedVolumes() =>
        [.. DriveInfo.GetDrives().Where(d => d.DriveType == DriveType.Fixed && d.IsReady).Select(d => d.RootDirectory.FullName)];

    public DeviceFacts ReadFacts(string agentVersion)
    {
        var now = membership.Read();
        return new DeviceFacts
        {
            DeviceName = now.ComputerName,
            OsVersion = DescribeOperatingSystem(),
            AgentVersion = agentVersion,
            JoinType = now.JoinType,
            DomainName = now.DomainName,
            TenantId = now.TenantId,
            EntraDeviceId = now.EntraDeviceId,
            LoggedOnUsers = TerminalSessions.LoggedOnUsers(),
            ProfileSids = [.. profiles.Read().Select(p => p.Sid)],
            FreeDiskSpaceBytes = new DriveInfo(Path.GetPathRoot(Environment.SystemDirectory)!).AvailableFreeSpace,
        };
    }

    public Task<HardwareIdentity> GetHardwareIdentityAsync(CancellationToken ct) => Task.Run(() =>
    {
        var serial = QueryFirst(@"root\cimv2", "SELECT SerialNumber FROM Win32_BIOS", "SerialNumber");
        var hash = QueryFirst(@"root\cimv2\mdm\dmmap", "SELECT DeviceHardwareData FROM MDM_DevDetail_Ext01 WHERE InstanceID='Ext' AND ParentID='./DevDetail'", "DeviceHardwareData");
        if (string.IsNullOrWhiteSpace(hash))
        {
            throw new StepFailedException("NoHardwareHash", "Windows reports no Autopilot hardware hash (MDM_DevDetail_Ext01.DeviceHardwareData).");
        }

        return new HardwareIdentity(serial?.Trim() ?? "", hash);
    }, ct);

    private static string DescribeOperatingSystem()
    {
        var version = Environment.OSVersion.Version;
        using var current = Registry.LocalMachine.OpenSubKey(CurrentVersionPath);
        var revision = current?.GetValue("UBR") is int ubr ? ubr : version.Revision;
        var release = current?.GetValue("DisplayVersion") as string;
        var edition = current?.GetValue("EditionID") as string;
        return $"Windows {version.Major}.{version.Minor}.{version.Build}.{revision}"
            + (release is null ? "" : $" {release}") + (edition is null ? "" : $" {edition}");
    }

    private static string? QueryFirst(string scope, string query, string property)
    {
        using var searcher = new ManagementObjectSearcher(scope, query);
        using var results = searcher.Get();
        foreach (var item in results)
        {
            using (item)
            {
                return item[property] as string;
            }
        }

        return null;
    }
}
