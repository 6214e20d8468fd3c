using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Security.AccessControl;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Security.Principal;
using Microsoft.Win32;

namespace Rehome.Agent.Platform.Windows;

// The real side of the native seam (NativeSeams.cs): each class only marshals one call group and hands back the
// status Windows gave. Decisions live in WindowsMembership and WindowsPower.

/// <summary>netapi32 through <see cref="NativeMethods"/>.</summary>
[SupportedOSPlatform("windows")]
internal sealed class NativeNetSetup : INetSetup
{
    public int GetJoinInformation(out string? name, out JoinStatus status)
    {
        var result = NativeMethods.NetGetJoinInformation(null, out var buffer, out var type);
        using (buffer)
        {
            name = result == NativeMethods.Success ? Marshal.PtrToStringUni(buffer.DangerousGetHandle()) : null;
        }

        status = result == NativeMethods.Success && Enum.IsDefined((JoinStatus)type) ? (JoinStatus)type : JoinStatus.Unknown;
        return result;
    }

    public int GetPrimaryDomain(out PrimaryDomain domain)
    {
        var result = NativeMethods.DsRoleGetPrimaryDomainInformation(0, NativeMethods.DsRolePrimaryDomainInfoBasic, out var buffer);
        using (buffer)
        {
            if (result != NativeMethods.Success || buffer.IsInvalid)
            {
                domain = new PrimaryDomain(null, null);
                return result;
            }

            var info = Marshal.PtrToStructure<NativeMethods.DsRolePrimaryDomainInfo>(buffer.DangerousGetHandle());
            domain = new PrimaryDomain(Marshal.PtrToStringUni(info.DomainNameFlat), Marshal.PtrToStringUni(info.DomainNameDns));
            return result;
        }
    }

    public int UnjoinDomain(uint options) => NativeMethods.NetUnjoinDomain(null, null, null, options);

    public int JoinDomain(string domain, string? machineAccountOu, string? account, string? password, uint options) =>
        NativeMethods.NetJoinDomain(null, domain, machineAccountOu, account, password, options);

    public int RequestOfflineDomainJoin(byte[] provisioningData, uint options, string windowsPath) =>
        NativeMethods.NetRequestOfflineDomainJoin(provisioningData, (uint)provisioningData.Length, options, windowsPath);

    public int GetDcName(string domain, uint flags, out string? domainController)
    {
        var result = NativeMethods.DsGetDcName(null, domain, 0, null, flags, out var buffer);
        using (buffer)
        {
            domainController = null;
            if (result == NativeMethods.Success && !buffer.IsInvalid)
            {
                var info = Marshal.PtrToStructure<NativeMethods.DomainControllerInfo>(buffer.DangerousGetHandle());
                domainController = Marshal.PtrToStringUni(info.DomainControllerName);
            }

            return result;
        }
    }

    public int QuerySecureChannel(string domain, out SecureChannel channel)
    {
        var name = Marshal.StringToHGlobalUni(domain);
        try
        {
            // TC_QUERY takes the address of a pointer to the domain's name.
            var data = name;
            var result = NativeMethods.I_NetLogonControl2(0, NativeMethods.NetlogonControlTcQuery, 2, ref data, out var buffer);
            using (buffer)
            {
                channel = new SecureChannel(result, null);
                if (result == NativeMethods.Success && !buffer.IsInvalid)
                {
                    var info = Marshal.PtrToStructure<NativeMethods.NetlogonInfo2>(buffer.DangerousGetHandle());
                    channel = new SecureChannel(info.TcConnectionStatus, Marshal.PtrToStringUni(info.TrustedDcName));
                }

                return result;
            }
        }
        finally
        {
            Marshal.FreeHGlobal(name);
        }
    }
}

/// <summary>The active host name from GetComputerNameEx; the pending one from the registry (Tcpip's "NV Hostname").</summary>
[SupportedOSPlatform("windows")]
internal sealed class NativeComputerNaming : IComputerNaming
{
    private const string TcpipParameters = @"SYSTEM\CurrentControlSet\Services\Tcpip\Parameters";

    public string ActiveName => ReadActive() ?? Environment.MachineName;

    public string? PendingName
    {
        get
        {
            using var parameters = Registry.LocalMachine.OpenSubKey(TcpipParameters);
            return parameters?.GetValue("NV Hostname") is string { Length: > 0 and <= 255 } name ? name.Trim() : null;
        }
    }

    public int SetPhysicalDnsHostname(string name) =>
        NativeMethods.SetComputerNameEx(NativeMethods.ComputerNamePhysicalDnsHostname, name) ? NativeMethods.Success : Marshal.GetLastPInvokeError();

    private static unsafe string? ReadActive()
    {
        // DNS host names are at most 63 characters a label; the buffer holds a full name and its terminator.
        var buffer = stackalloc char[256];
        uint size = 256;
        return NativeMethods.GetComputerNameEx(NativeMethods.ComputerNamePhysicalDnsHostname, buffer, ref size) && size > 0
            ? new string(buffer, 0, (int)size)
            : null;
    }
}

[SupportedOSPlatform("windows")]
internal sealed class NativeShutdown : IShutdown
{
    public int EnableShutdownPrivilege() => ProcessPrivileges.TryEnable("SeShutdownPrivilege");

    public int InitiateShutdown(string message, uint gracePeriodSeconds, uint flags, uint reason) =>
        NativeMethods.InitiateShutdown(null, message, gracePeriodSeconds, flags, reason);
}

[SupportedOSPlatform("windows")]
internal sealed class NativePowerRequests : IPowerRequests
{
    private const nint InvalidHandle = -1;

    public unsafe int Create(string reason, out nint request)
    {
        fixed (char* text = reason)
        {
            var context = new NativeMethods.ReasonContext
            {
                Version = NativeMethods.PowerRequestContextVersion,
                Flags = NativeMethods.PowerRequestContextSimpleString,
                SimpleReasonString = (nint)text,
            };
            request = NativeMethods.PowerCreateRequest(in context);
        }

        if (request is InvalidHandle or 0)
        {
            request = 0;
            return Marshal.GetLastPInvokeError();
        }

        return NativeMethods.Success;
    }

    public int Set(nint request, PowerRequestType type) =>
        NativeMethods.PowerSetRequest(request, type) ? NativeMethods.Success : Marshal.GetLastPInvokeError();

    public int Clear(nint request, PowerRequestType type) =>
        NativeMethods.PowerClearRequest(request, type) ? NativeMethods.Success : Marshal.GetLastPInvokeError();

    public void Close(nint request) => NativeMethods.CloseHandle(request);
}

[SupportedOSPlatform("windows")]
internal sealed class NativeProcessRunner : IProcessRunner
{
    public Task<ToolResult> RunAsync(WindowsTool tool, IReadOnlyList<string> arguments, CancellationToken ct) =>
        SystemCommand.StartAsync(tool switch
        {
            WindowsTool.Dsregcmd => SystemCommand.System32("dsregcmd.exe"),
            WindowsTool.Schtasks => SystemCommand.System32("schtasks.exe"),
            _ => SystemCommand.PowerShell,
        }, arguments, ct);
}

/// <summary>CloudDomainJoin\JoinInfo with the device certificate, and the MDM Enrollments keys.</summary>
[SupportedOSPlatform("windows")]
internal sealed class NativeMachineRegistry : IMachineRegistry
{
    /// <summary>One subkey per Entra ID join, named by the thumbprint of the device certificate.</summary>
    private const string JoinInfoPath = @"SYSTEM\CurrentControlSet\Control\CloudDomainJoin\JoinInfo";

    private const string EnrollmentsPath = @"SOFTWARE\Microsoft\Enrollments";

    public EntraJoin? ReadEntraJoin()
    {
        using var joinInfo = Registry.LocalMachine.OpenSubKey(JoinInfoPath);
        if (joinInfo is null)
        {
            return null;
        }

        foreach (var thumbprint in joinInfo.GetSubKeyNames())
        {
            using var join = joinInfo.OpenSubKey(thumbprint);
            if (join?.GetValue("TenantId") is string text && Guid.TryParse(text, out var tenant))
            {
                return new EntraJoin(tenant.ToString("D"), DeviceIdFromCertificate(thumbprint));
            }
        }

        return null;
    }

    public IReadOnlyList<MdmEnrollment> ReadEnrollments()
    {
        using var enrollments = Registry.LocalMachine.OpenSubKey(EnrollmentsPath);
        if (enrollments is null)
        {
            return [];
        }

        var found = new List<MdmEnrollment>();
        foreach (var id in enrollments.GetSubKeyNames())
        {
            // Enrollments are GUID subkeys; "Context", "Status", "ValidNodePaths" and the like are not.
            if (!Guid.TryParse(id, out _))
            {
                continue;
            }

            using var enrollment = enrollments.OpenSubKey(id);
            var provider = enrollment?.GetValue("ProviderID") as string;
            var tenant = enrollment?.GetValue("AADTenantID") is string text && Guid.TryParse(text, out var parsed) ? parsed.ToString("D") : null;
            found.Add(new MdmEnrollment(id, provider, tenant));
        }

        return found;
    }

    public void DeleteEnrollment(string id)
    {
        if (!Guid.TryParse(id, out _))
        {
            return;
        }

        using var enrollments = Registry.LocalMachine.OpenSubKey(EnrollmentsPath, writable: true);
        enrollments?.DeleteSubKeyTree(id, throwOnMissingSubKey: false);
        using var status = Registry.LocalMachine.OpenSubKey(EnrollmentsPath + @"\Status", writable: true);
        status?.DeleteSubKeyTree(id, throwOnMissingSubKey: false);
    }

    /// <summary>The device certificate (in the machine's personal store) names the Entra device id as its subject.</summary>
    private static string? DeviceIdFromCertificate(string thumbprint)
    {
        using var store = new X509Store(StoreName.My, StoreLocation.LocalMachine);
        store.Open(OpenFlags.ReadOnly | OpenFlags.OpenExistingOnly);
        var found = store.Certificates.Find(X509FindType.FindByThumbprint, thumbprint, validOnly: false);
        try
        {
            var subject = found.Count == 0 ? null : found[0].GetNameInfo(X509NameType.SimpleName, forIssuer: false);
            return Guid.TryParse(subject, out var id) ? id.ToString("D") : null;
        }
        finally
        {
            foreach (var certificate in found)
            {
                certificate.Dispose();
            }
        }
    }
}

/// <summary>Message texts: NET_API codes from netmsg.dll, the others from the system's table.</summary>
[SupportedOSPlatform("windows")]
internal sealed class NativeWin32Errors : IWin32Errors
{
    public static readonly NativeWin32Errors Instance = new();

    // Loaded once as a data file (no code runs) from System32 by full path, and kept for the process's life.
    private readonly Lazy<nint> netmsg = new(() =>
        NativeMethods.LoadLibraryEx(Path.Combine(Environment.SystemDirectory, "netmsg.dll"), 0, NativeMethods.LoadLibraryAsDatafile));

    public string Describe(int code)
    {
        // A NET_API code netmsg.dll does not know may still be in the system table.
        var text = WindowsErrors.IsNetApiStatus(code) && netmsg.Value != 0 ? Format(code, netmsg.Value) : "";
        return text.Length > 0 ? text : Format(code, 0);
    }

    private static unsafe string Format(int code, nint module)
    {
        var flags = NativeMethods.FormatMessageIgnoreInserts | (module != 0 ? NativeMethods.FormatMessageFromHModule : NativeMethods.FormatMessageFromSystem);
        var buffer = stackalloc char[1024];
        var length = NativeMethods.FormatMessage(flags, module, unchecked((uint)code), 0, buffer, 1024, 0);
        return length == 0 ? "" : new string(buffer, 0, (int)length).Trim();
    }
}

/// <summary>The staging folder's ACL (the protection) and DPAPI machine scope (defence in depth).</summary>
[SupportedOSPlatform("windows")]
internal sealed class WindowsStagingProtection : IStagingProtection
{
    private static readonly byte[] Entropy = "Rehome staged join"u8.ToArray();

    public void SecureFolder(string folder)
    {
        var administrators = new SecurityIdentifier(WellKnownSidType.BuiltinAdministratorsSid, null);
        var system = new SecurityIdentifier(WellKnownSidType.LocalSystemSid, null);
        var security = new DirectorySecurity();
        security.SetOwner(administrators);
        security.SetAccessRuleProtection(isProtected: true, preserveInheritance: false);
        foreach (var account in new[] { system, administrators })
        {
            security.AddAccessRule(new FileSystemAccessRule(
                account,
                FileSystemRights.FullControl,
                InheritanceFlags.ContainerInherit | InheritanceFlags.ObjectInherit,
                PropagationFlags.None,
                AccessControlType.Allow));
        }

        var directory = new DirectoryInfo(folder);
        if (!directory.Exists)
        {
            directory.Create(security);
            return;
        }

        if (directory.Attributes.HasFlag(FileAttributes.ReparsePoint))
        {
            throw new InvalidOperationException($"{folder} is a link, not the agent's folder: refusing to stage secrets there.");
        }

        // Made by someone else (a local user before the agent): nothing in it is trusted, so it starts again empty.
        var owner = directory.GetAccessControl().GetOwner(typeof(SecurityIdentifier));
        if (owner != administrators && owner != system)
        {
            directory.Delete(recursive: true);
            directory.Create(security);
            return;
        }

        directory.SetAccessControl(security);
    }

    public byte[] Seal(byte[] secret) => ProtectedData.Protect(secret, Entropy, DataProtectionScope.LocalMachine);

    public byte[] Unseal(byte[] sealedSecret) => ProtectedData.Unprotect(sealedSecret, Entropy, DataProtectionScope.LocalMachine);
}

/// <summary>The real Windows behind every seam.</summary>
[SupportedOSPlatform("windows")]
internal static class NativeWindows
{
    public static WindowsSystem Create() => new(
        new NativeNetSetup(),
        new NativeComputerNaming(),
        new NativeShutdown(),
        new NativePowerRequests(),
        new NativeProcessRunner(),
        new NativeMachineRegistry(),
        NativeWin32Errors.Instance);
}
