namespace Rehome.Agent.Platform.Windows;

// The thin native seam: the Windows classes reach the system only through these interfaces, one member per call
// group, each answering with the status code Windows gave (0 is success). Every decision above them (which call in
// which membership state, what is staged, how a replay continues, how errors map) runs on any OS against fakes; the
// real implementations (Native*.cs) only marshal.

/// <summary>NETSETUP_JOIN_STATUS.</summary>
internal enum JoinStatus
{
    Unknown,
    Unjoined,
    Workgroup,
    Domain,
}

/// <summary>What DsRoleGetPrimaryDomainInformation says about the joined domain.</summary>
internal sealed record PrimaryDomain(string? FlatName, string? DnsName);

/// <summary>
/// NETLOGON_INFO_2 of a secure channel query: <paramref name="ChannelStatus"/> is the status of the channel to
/// <paramref name="DomainControllerName"/> (0 when it works).
/// </summary>
internal sealed record SecureChannel(int ChannelStatus, string? DomainControllerName);

/// <summary>netapi32: join state, joins and unjoins, domain controllers, the secure channel.</summary>
internal interface INetSetup
{
    /// <summary>NetGetJoinInformation.</summary>
    int GetJoinInformation(out string? name, out JoinStatus status);

    /// <summary>DsRoleGetPrimaryDomainInformation (level DsRolePrimaryDomainInfoBasic).</summary>
    int GetPrimaryDomain(out PrimaryDomain domain);

    /// <summary>NetUnjoinDomain for this computer, no account, no password.</summary>
    int UnjoinDomain(uint options);

    /// <summary>NetJoinDomain for this computer.</summary>
    int JoinDomain(string domain, string? machineAccountOu, string? account, string? password, uint options);

    /// <summary>NetRequestOfflineDomainJoin applied to the Windows in <paramref name="windowsPath"/>.</summary>
    int RequestOfflineDomainJoin(byte[] provisioningData, uint options, string windowsPath);

    /// <summary>DsGetDcName; <paramref name="domainController"/> is the DC's name when found.</summary>
    int GetDcName(string domain, uint flags, out string? domainController);

    /// <summary>I_NetLogonControl2(NETLOGON_CONTROL_TC_QUERY, level 2) for <paramref name="domain"/>.</summary>
    int QuerySecureChannel(string domain, out SecureChannel channel);
}

/// <summary>The computer's names: what it runs under now, what it takes at the next restart, setting the latter.</summary>
internal interface IComputerNaming
{
    /// <summary>The name Windows runs under now (the active NetBIOS name).</summary>
    string ActiveName { get; }

    /// <summary>The physical DNS host name Windows takes at the next restart (the registry's pending name); null when unreadable.</summary>
    string? PendingName { get; }

    /// <summary>SetComputerNameEx(ComputerNamePhysicalDnsHostname); returns the Win32 error (0 on success).</summary>
    int SetPhysicalDnsHostname(string name);
}

/// <summary>Restarting Windows.</summary>
internal interface IShutdown
{
    /// <summary>Enables SeShutdownPrivilege in the process token; returns the Win32 error (0 on success).</summary>
    int EnableShutdownPrivilege();

    /// <summary>InitiateShutdown of this computer; returns its Win32 error (0 on success).</summary>
    int InitiateShutdown(string message, uint gracePeriodSeconds, uint flags, uint reason);
}

/// <summary>POWER_REQUEST_TYPE.</summary>
internal enum PowerRequestType
{
    DisplayRequired,
    SystemRequired,
    AwayModeRequired,
    ExecutionRequired,
}

/// <summary>Power requests: PowerCreateRequest, PowerSetRequest, PowerClearRequest, CloseHandle.</summary>
internal interface IPowerRequests
{
    /// <summary>PowerCreateRequest with a simple reason string; returns the Win32 error (0 on success).</summary>
    int Create(string reason, out nint request);

    int Set(nint request, PowerRequestType type);

    int Clear(nint request, PowerRequestType type);

    void Close(nint request);
}

/// <summary>The Windows tools the platform runs, by what they are (the real runner knows where they live).</summary>
internal enum WindowsTool
{
    Dsregcmd,
    PowerShell,
    Schtasks,
}

/// <summary>How a tool ended: its exit code and what it wrote.</summary>
internal sealed record ToolResult(int ExitCode, string Output, string Error)
{
    /// <summary>What to show of a failure: the error stream, or the output when the tool wrote its error there.</summary>
    public string Detail => (string.IsNullOrWhiteSpace(Error) ? Output : Error).Trim();
}

/// <summary>Runs Windows tools without a window.</summary>
internal interface IProcessRunner
{
    Task<ToolResult> RunAsync(WindowsTool tool, IReadOnlyList<string> arguments, CancellationToken ct);
}

/// <summary>The device's Entra ID join as the registry (JoinInfo) and the device certificate record it.</summary>
internal sealed record EntraJoin(string TenantId, string? DeviceId);

/// <summary>An MDM enrollment under <c>HKLM\SOFTWARE\Microsoft\Enrollments\&lt;id&gt;</c>.</summary>
/// <param name="Id">The subkey's name, a GUID (anything else is not read).</param>
/// <param name="ProviderId">ProviderID (<c>MS DM Server</c> for Intune).</param>
/// <param name="TenantId">AADTenantID, when it is a GUID.</param>
internal sealed record MdmEnrollment(string Id, string? ProviderId, string? TenantId);

/// <summary>The machine's registry where the membership is recorded outside netapi32.</summary>
internal interface IMachineRegistry
{
    /// <summary>The Entra ID join (CloudDomainJoin\JoinInfo and its device certificate); null when there is none.</summary>
    EntraJoin? ReadEntraJoin();

    IReadOnlyList<MdmEnrollment> ReadEnrollments();

    /// <summary>Deletes the enrollment's keys (Enrollments\&lt;id&gt; and its status); nothing when they are gone.</summary>
    void DeleteEnrollment(string id);
}

/// <summary>Texts of Win32 and NET_API status codes.</summary>
internal interface IWin32Errors
{
    /// <summary>The message Windows has for <paramref name="code"/>; empty when it has none.</summary>
    string Describe(int code);
}

/// <summary>Every seam the Windows platform calls through, so that one value builds it (real or fake).</summary>
internal sealed record WindowsSystem(
    INetSetup NetSetup,
    IComputerNaming Naming,
    IShutdown Shutdown,
    IPowerRequests PowerRequests,
    IProcessRunner Tools,
    IMachineRegistry Registry,
    IWin32Errors Errors);
