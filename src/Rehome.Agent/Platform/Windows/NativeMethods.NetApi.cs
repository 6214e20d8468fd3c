using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Rehome.Agent.Platform.Windows;

/// <summary>Memory a Windows API allocated for its answer; each subclass frees it the way its API says.</summary>
[SupportedOSPlatform("windows")]
internal abstract class NativeBuffer : SafeHandle
{
    protected NativeBuffer()
        : base(0, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == 0;
}

/// <summary>A buffer that netapi32 allocated; released with NetApiBufferFree.</summary>
[SupportedOSPlatform("windows")]
internal sealed class NetApiBuffer : NativeBuffer
{
    protected override bool ReleaseHandle() => NativeMethods.NetApiBufferFree(handle) == NativeMethods.Success;
}

/// <summary>A buffer that DsRoleGetPrimaryDomainInformation allocated; released with DsRoleFreeMemory.</summary>
[SupportedOSPlatform("windows")]
internal sealed class DsRoleBuffer : NativeBuffer
{
    protected override bool ReleaseHandle()
    {
        NativeMethods.DsRoleFreeMemory(handle);
        return true;
    }
}

/// <summary>netapi32: join state, joins and unjoins, domain controller discovery, local groups.</summary>
internal static partial class NativeMethods
{
    internal const int NetSetupDomainName = 3;
    internal const int DsRolePrimaryDomainInfoBasic = 1;

    /// <summary>Required when the offline join is applied to the running Windows (lpWindowsPath is its own folder).</summary>
    internal const uint NetSetupProvisionOnlineCaller = 0x40000000;

    internal const uint DsDirectoryServiceRequired = 0x00000010;
    internal const uint DsIsDnsName = 0x00020000;
    internal const uint DsReturnDnsName = 0x40000000;

    internal const int ErrorMemberNotInAlias = 1377;
    internal const int ErrorMemberInAlias = 1378;
    internal const int NerrSetupNotJoined = 2692;
    internal const int MaxPreferredLength = -1;

    /// <summary>DSROLE_PRIMARY_DOMAIN_INFO_BASIC.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct DsRolePrimaryDomainInfo
    {
        public int MachineRole;
        public uint Flags;
        public nint DomainNameFlat;
        public nint DomainNameDns;
        public nint DomainForestName;
        public Guid DomainGuid;
    }

    /// <summary>DOMAIN_CONTROLLER_INFOW.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct DomainControllerInfo
    {
        public nint DomainControllerName;
        public nint DomainControllerAddress;
        public uint DomainControllerAddressType;
        public Guid DomainGuid;
        public nint DomainName;
        public nint DnsForestName;
        public uint Flags;
        public nint DcSiteName;
        public nint ClientSiteName;
    }

    [DllImport("netapi32.dll", ExactSpelling = true)]
    internal static extern int NetApiBufferFree(nint buffer);

    [DllImport("netapi32.dll", ExactSpelling = true, CharSet = CharSet.Unicode)]
    internal static extern int NetGetJoinInformation(string? server, out NetApiBuffer nameBuffer, out int bufferType);

    [DllImport("netapi32.dll", ExactSpelling = true)]
    internal static extern int DsRoleGetPrimaryDomainInformation(nint server, int infoLevel, out DsRoleBuffer buffer);

    [DllImport("netapi32.dll", ExactSpelling = true)]
    internal static extern void DsRoleFreeMemory(nint buffer);

    [DllImport("netapi32.dll", EntryPoint = "DsGetDcNameW", ExactSpelling = true, CharSet = CharSet.Unicode)]
    internal static extern int DsGetDcName(string? computerName, string domainName, nint domainGuid, string? siteName, uint flags, out NetApiBuffer info);

    [DllImport("netapi32.dll", ExactSpelling = true, CharSet = CharSet.Unicode)]
    internal static extern int NetUnjoinDomain(string? server, string? account, string? password, uint options);

    [DllImport("netapi32.dll", ExactSpelling = true, CharSet = CharSet.Unicode)]
    internal static extern int NetRequestOfflineDomainJoin(byte[] provisionData, uint provisionDataSize, uint options, string windowsPath);

    [DllImport("netapi32.dll", ExactSpelling = true, CharSet = CharSet.Unicode)]
    internal static extern int NetLocalGroupGetMembers(string? server, string groupName, int level, out NetApiBuffer buffer, int preferredMaximumLength, out int entriesRead, out int totalEntries, ref nint resumeHandle);

    /// <summary>Level 0: <paramref name="members"/> is an array of LOCALGROUP_MEMBERS_INFO_0 (one SID pointer each).</summary>
    [DllImport("netapi32.dll", ExactSpelling = true, CharSet = CharSet.Unicode)]
    internal static extern int NetLocalGroupAddMembers(string? server, string groupName, int level, ref nint members, int totalEntries);

    [DllImport("netapi32.dll", ExactSpelling = true, CharSet = CharSet.Unicode)]
    internal static extern int NetLocalGroupDelMembers(string? server, string groupName, int level, ref nint members, int totalEntries);
}
