using System.Runtime.InteropServices;

namespace Rehome.Agent.Platform.Windows;

// The structures the Windows platform reads from or passes to Win32, laid out as the SDK headers declare them.
// Their sizes and field offsets on x64 are checked by tests (tests/Rehome.Agent.Tests/Windows/NativeLayoutTests.cs).
internal static partial class NativeMethods
{
    /// <summary>DSROLE_PRIMARY_DOMAIN_INFO_BASIC (dsrole.h).</summary>
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

    /// <summary>DOMAIN_CONTROLLER_INFOW (dsgetdc.h).</summary>
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

    /// <summary>NETLOGON_INFO_2 (lmaccess.h).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct NetlogonInfo2
    {
        public uint Flags;
        public int PdcConnectionStatus;
        public nint TrustedDcName;
        public int TcConnectionStatus;
    }

    /// <summary>TOKEN_PRIVILEGES with a single LUID_AND_ATTRIBUTES (a LUID is two DWORDs: 4-byte aligned).</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    internal struct TokenPrivilege
    {
        public uint Count;
        public long Luid;
        public uint Attributes;
    }

    /// <summary>
    /// REASON_CONTEXT (minwinbase.h) with the simple string of the union; the size covers the union's larger
    /// Detailed member (HMODULE, ULONG, ULONG, LPWSTR*), as the header's does.
    /// </summary>
    [StructLayout(LayoutKind.Explicit, Size = 32)]
    internal struct ReasonContext
    {
        [FieldOffset(0)]
        public uint Version;

        [FieldOffset(4)]
        public uint Flags;

        [FieldOffset(8)]
        public nint SimpleReasonString;
    }

    /// <summary>WTS_CONNECTSTATE_CLASS.</summary>
    internal enum WtsConnectState
    {
        Active,
        Connected,
        ConnectQuery,
        Shadow,
        Disconnected,
        Idle,
        Listen,
        Reset,
        Down,
        Init,
    }

    /// <summary>WTS_SESSION_INFOW (wtsapi32.h).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct WtsSessionInfo
    {
        public int SessionId;
        public nint WinStationName;
        public WtsConnectState State;
    }
}
