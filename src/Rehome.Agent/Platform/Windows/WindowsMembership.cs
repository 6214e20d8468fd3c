using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Win32;
using Rehome.Protocol;

namespace Rehome.Agent.Platform.Windows;

/// <summary>
/// Reads where this Windows belongs: the Active Directory domain from NetGetJoinInformation and
/// DsRoleGetPrimaryDomainInformation, the Entra ID join from the registry that device registration (dsregcmd) keeps.
/// </summary>
[SupportedOSPlatform("windows")]
internal static class WindowsMembership
{
    /// <summary>One subkey per Entra ID join, named by the thumbprint of the device certificate.</summary>
    private const string EntraJoinInfoPath = @"SYSTEM\CurrentControlSet\Control\CloudDomainJoin\JoinInfo";

    public static DeviceMembership Read()
    {
        var domain = ReadDomainDnsName();
        var entra = ReadEntraJoin();
        return new DeviceMembership
        {
            ComputerName = Environment.MachineName,
            JoinType = (domain, entra) switch
            {
                (not null, not null) => DeviceJoinType.HybridEntraId,
                (not null, null) => DeviceJoinType.ActiveDirectory,
                (null, not null) => DeviceJoinType.EntraId,
                _ => DeviceJoinType.Workgroup,
            },
            DomainName = domain,
            TenantId = entra?.TenantId,
            EntraDeviceId = entra?.DeviceId,
        };
    }

    /// <summary>The DNS name of the joined domain (the flat name when DNS is unknown), or null when not domain joined.</summary>
    public static string? ReadDomainDnsName()
    {
        NativeMethods.Check(NativeMethods.NetGetJoinInformation(null, out var nameBuffer, out var status), "NetGetJoinInformation");
        string? joinName;
        using (nameBuffer)
        {
            joinName = Marshal.PtrToStringUni(nameBuffer.DangerousGetHandle());
        }

        if (status != NativeMethods.NetSetupDomainName)
        {
            return null;
        }

        NativeMethods.Check(
            NativeMethods.DsRoleGetPrimaryDomainInformation(0, NativeMethods.DsRolePrimaryDomainInfoBasic, out var roleBuffer),
            "DsRoleGetPrimaryDomainInformation");
        using (roleBuffer)
        {
            var info = Marshal.PtrToStructure<NativeMethods.DsRolePrimaryDomainInfo>(roleBuffer.DangerousGetHandle());
            return Marshal.PtrToStringUni(info.DomainNameDns) ?? Marshal.PtrToStringUni(info.DomainNameFlat) ?? joinName;
        }
    }

    /// <summary>The tenant and device id of the Entra ID join, or null when the device is not Entra joined.</summary>
    public static (string TenantId, string? DeviceId)? ReadEntraJoin()
    {
        using var joinInfo = Registry.LocalMachine.OpenSubKey(EntraJoinInfoPath);
        if (joinInfo is null)
        {
            return null;
        }

        foreach (var thumbprint in joinInfo.GetSubKeyNames())
        {
            using var join = joinInfo.OpenSubKey(thumbprint);
            if (join?.GetValue("TenantId") is string tenantId && tenantId.Length > 0)
            {
                return (tenantId, DeviceIdFromCertificate(thumbprint));
            }
        }

        return null;
    }

    /// <summary>The device certificate (in the machine's personal store) names the Entra device id as its subject.</summary>
    private static string? DeviceIdFromCertificate(string thumbprint)
    {
        using var store = new X509Store(StoreName.My, StoreLocation.LocalMachine);
        store.Open(OpenFlags.ReadOnly | OpenFlags.OpenExistingOnly);
        var found = store.Certificates.Find(X509FindType.FindByThumbprint, thumbprint, validOnly: false);
        try
        {
            return found.Count == 0 ? null : found[0].GetNameInfo(X509NameType.SimpleName, forIssuer: false);
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
