using System.ComponentModel;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Security.Principal;
using Microsoft.Win32.SafeHandles;
using Rehome.Directory.ActiveDirectory;

namespace Rehome.Directory.OfflineJoin;

/// <summary>
/// <see cref="IOfflineJoinProvisioner"/> for Windows servers: NetProvisionComputerAccount, the API behind
/// djoin.exe /provision. With a credential it runs as that account for network access (a NEW_CREDENTIALS
/// logon); without one, as the server's own identity.
/// </summary>
[SupportedOSPlatform("windows")]
public sealed partial class WindowsOfflineJoinProvisioner : IOfflineJoinProvisioner
{
    private const int ReuseAccount = 0x2; // NETSETUP_PROVISION_REUSE_ACCOUNT
    private const int LogonNewCredentials = 9; // LOGON32_LOGON_NEW_CREDENTIALS
    private const int ProviderWinNT50 = 3; // LOGON32_PROVIDER_WINNT50

    private readonly IActiveDirectoryDirectory destination;
    private readonly DirectoryCredential? credential;
    private readonly string? domainController;

    /// <param name="destination">The destination domain, for the checks and its DNS name.</param>
    /// <param name="credential">The account to provision as ("DOMAIN\user" or "user@domain"); the
    /// process's identity when null.</param>
    /// <param name="domainController">A specific DC to provision on; any DC when null.</param>
    public WindowsOfflineJoinProvisioner(IActiveDirectoryDirectory destination, DirectoryCredential? credential, string? domainController = null)
    {
        ArgumentNullException.ThrowIfNull(destination);
        this.destination = destination;
        this.credential = credential;
        this.domainController = domainController;
    }

    public async Task<OfflineJoinResult> ProvisionAsync(OfflineJoinRequest request, CancellationToken cancellationToken = default)
    {
        var (refusal, domain) = await OfflineJoinChecks.CheckAsync(destination, request, cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }

        var (status, text) = await Task.Run(() => RunAsAccount(() => Provision(domain.DnsName, request)), cancellationToken);
        if (status == 0 && text is not null)
        {
            return OfflineJoinResult.Provisioned(text, request, domain);
        }

        var words = new Win32Exception(status).Message;
        return status switch
        {
            5 => OfflineJoinResult.Failed(OfflineJoinFailureReason.AccessDenied,
                $"Access denied: the account may not create or reset the computer account '{request.MachineName}'. ({words})"),
            1326 => OfflineJoinResult.Failed(OfflineJoinFailureReason.LogonFailure, $"{domain.DnsName} rejected the credentials. ({words})"),
            2 or 8240 when request.OrganizationalUnit is not null => OfflineJoinResult.Failed(OfflineJoinFailureReason.OrganizationalUnitMissing,
                $"The organizational unit '{request.OrganizationalUnit}' does not exist. ({words})"),
            1316 or 2224 or 8305 => OfflineJoinResult.Failed(OfflineJoinFailureReason.NameTaken,
                $"The name '{request.MachineName}' is already taken in {domain.DnsName}. ({words})"),
            53 or 1355 or 1722 or 1311 => throw new DirectoryUnavailableException(
                $"No DC of {domain.DnsName} could be reached for offline join provisioning: {words}"),
            _ => OfflineJoinResult.Failed(OfflineJoinFailureReason.Other, $"Offline join provisioning failed with error {status}: {words}"),
        };
    }

    private (int Status, string? Text) RunAsAccount(Func<(int, string?)> action)
    {
        if (credential is null)
        {
            return action();
        }

        var (user, domainName) = SplitUserName(credential.UserName);
        if (!LogonUser(user, domainName, credential.Password, LogonNewCredentials, ProviderWinNT50, out var token))
        {
            return (Marshal.GetLastPInvokeError(), null);
        }

        using (token)
        {
            return WindowsIdentity.RunImpersonated(token, action);
        }
    }

    private (int Status, string? Text) Provision(string domainName, OfflineJoinRequest request)
    {
        var status = NetProvisionComputerAccount(
            domainName,
            request.MachineName,
            request.OrganizationalUnit,
            domainController,
            request.ReuseExistingAccount ? ReuseAccount : 0,
            IntPtr.Zero,
            IntPtr.Zero,
            out var text);
        try
        {
            return (status, status == 0 ? Marshal.PtrToStringUni(text) : null);
        }
        finally
        {
            if (text != IntPtr.Zero)
            {
                _ = NetApiBufferFree(text);
            }
        }
    }

    private static (string User, string? Domain) SplitUserName(string userName)
    {
        var slash = userName.IndexOf('\\', StringComparison.Ordinal);
        return slash >= 0 ? (userName[(slash + 1)..], userName[..slash]) : (userName, null);
    }

    [LibraryImport("netapi32.dll", StringMarshalling = StringMarshalling.Utf16)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.System32)]
    private static partial int NetProvisionComputerAccount(
        string domain,
        string machineName,
        string? machineAccountOrganizationalUnit,
        string? domainController,
        int options,
        IntPtr binaryData,
        IntPtr binaryDataSize,
        out IntPtr textData);

    [LibraryImport("netapi32.dll")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.System32)]
    private static partial int NetApiBufferFree(IntPtr buffer);

    [LibraryImport("advapi32.dll", EntryPoint = "LogonUserW", StringMarshalling = StringMarshalling.Utf16, SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.System32)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool LogonUser(string user, string? domain, string password, int logonType, int provider, out SafeAccessTokenHandle token);
}
