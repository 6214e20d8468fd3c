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

/// <summary>netapi32: join state, joins and unjoins, domain controller discovery, the secure channel, local groups.</summary>
internal static partial class NativeMethods
{
    internal const int DsRolePrimaryDomainInfoBasic = 1;

    /// <summary>NETLOGON_CONTROL_TC_QUERY: the status of the secure channel with a domain.</summary>
    internal const uint NetlogonControlTcQuery = 6;

    internal const int ErrorMemberNotInAlias = 1377;
    internal const int ErrorMemberInAlias = 1378;
    internal const int NerrSetupNotJoined = 2692;
    internal const int MaxPreferredLength = -1;

    [LibraryImport("netapi32.dll")]
    internal static partial int NetApiBufferFree(nint buffer);

    [LibraryImport("netapi32.dll", StringMarshalling = StringMarshalling.Utf16)]
    internal static partial int NetGetJoinInformation(string? server, out NetApiBuffer nameBuffer, out int bufferType);

    [LibraryImport("netapi32.dll")]
    internal static partial int DsRoleGetPrimaryDomainInformation(nint server, int infoLevel, out DsRoleBuffer buffer);

    [LibraryImport("netapi32.dll")]
    internal static partial void DsRoleFreeMemory(nint buffer);

    [LibraryImport("netapi32.dll", EntryPoint = "DsGetDcNameW", StringMarshalling = StringMarshalling.Utf16)]
    internal static partial int DsGetDcName(string? computerName, string domainName, nint domainGuid, string? siteName, uint flags, out NetApiBuffer info);

    [LibraryImport("netapi32.dll", StringMarshalling = StringMarshalling.Utf16)]
    internal static partial int NetUnjoinDomain(string? server, string? account, string? password, uint options);

    [LibraryImport("netapi32.dll", StringMarshalling = StringMarshalling.Utf16)]
    internal static partial int NetJoinDomain(string? server, string domain, string? machineAccountOu, string? account, string? password, uint options);

    [LibraryImport("netapi32.dll", StringMarshalling = StringMarshalling.Utf16)]
    internal static partial int NetRequestOfflineDomainJoin(byte[] provisionData, uint provisionDataSize, uint options, string windowsPath);

    /// <summary><paramref name="data"/> holds a pointer to the domain's name (TC_QUERY); the answer is a NETLOGON_INFO_2.</summary>
    [LibraryImport("netapi32.dll")]
    internal static partial int I_NetLogonControl2(nint serverName, uint functionCode, uint queryLevel, ref nint data, out NetApiBuffer buffer);

    [LibraryImport("netapi32.dll", StringMarshalling = StringMarshalling.Utf16)]
    internal static partial int NetLocalGroupGetMembers(string? server, string groupName, int level, out NetApiBuffer buffer, int preferredMaximumLength, out int entriesRead, out int totalEntries, ref nint resumeHandle);

    /// <summary>Level 0: <paramref name="members"/> is an array of LOCALGROUP_MEMBERS_INFO_0 (one SID pointer each).</summary>
    [LibraryImport("netapi32.dll", StringMarshalling = StringMarshalling.Utf16)]
    internal static partial int NetLocalGroupAddMembers(string? server, string groupName, int level, ref nint members, int totalEntries);

    [LibraryImport("netapi32.dll", StringMarshalling = StringMarshalling.Utf16)]
    internal static partial int NetLocalGroupDelMembers(string? server, string groupName, int level, ref nint members, int totalEntries);
}
