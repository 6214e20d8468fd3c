using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Rehome.Agent.Platform.Windows;

/// <summary>Token privileges for the process; enabling one fails clearly when the account does not hold it.</summary>
[SupportedOSPlatform("windows")]
internal static class ProcessPrivileges
{
    private const uint AdjustPrivileges = 0x20;
    private const uint QueryToken = 0x8;
    private const uint PrivilegeEnabled = 0x2;
    private const int NotAllAssigned = 1300;

    public static void Enable(string privilege)
    {
        if (!NativeMethods.OpenProcessToken(NativeMethods.GetCurrentProcess(), AdjustPrivileges | QueryToken, out var token))
        {
            throw NativeMethods.Failure(Marshal.GetLastPInvokeError(), "OpenProcessToken");
        }

        using (token)
        {
            if (!NativeMethods.LookupPrivilegeValue(null, privilege, out var luid))
            {
                throw NativeMethods.Failure(Marshal.GetLastPInvokeError(), $"LookupPrivilegeValue({privilege})");
            }

            var state = new NativeMethods.TokenPrivilege { Count = 1, Luid = luid, Attributes = PrivilegeEnabled };
            var adjusted = NativeMethods.AdjustTokenPrivileges(token, false, ref state, 0, 0, 0);
            var error = Marshal.GetLastPInvokeError();
            if (!adjusted || error == NotAllAssigned)
            {
                throw NativeMethods.Failure(error, $"AdjustTokenPrivileges({privilege}): the agent's account does not hold it (run the service as LocalSystem)");
            }
        }
    }
}

/// <summary>kernel32 and advapi32: restarting, naming the computer, privileges, account names.</summary>
internal static partial class NativeMethods
{
    internal const uint ShutdownForceOthers = 0x1;
    internal const uint ShutdownRestart = 0x4;
    internal const uint ShutdownGraceOverride = 0x20;

    /// <summary>SHTDN_REASON_FLAG_PLANNED | SHTDN_REASON_MAJOR_OPERATINGSYSTEM | SHTDN_REASON_MINOR_RECONFIG.</summary>
    internal const uint ShutdownReasonPlannedReconfiguration = 0x80000000 | 0x00020000 | 0x00000004;

    internal const int ComputerNamePhysicalDnsHostname = 5;

    /// <summary>TOKEN_PRIVILEGES with a single LUID_AND_ATTRIBUTES.</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    internal struct TokenPrivilege
    {
        public uint Count;
        public long Luid;
        public uint Attributes;
    }

    [DllImport("kernel32.dll", ExactSpelling = true)]
    internal static extern nint GetCurrentProcess();

    [DllImport("advapi32.dll", ExactSpelling = true, SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static extern bool OpenProcessToken(nint process, uint access, out Microsoft.Win32.SafeHandles.SafeAccessTokenHandle token);

    [DllImport("advapi32.dll", EntryPoint = "LookupPrivilegeValueW", ExactSpelling = true, SetLastError = true, CharSet = CharSet.Unicode)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static extern bool LookupPrivilegeValue(string? system, string name, out long luid);

    [DllImport("advapi32.dll", ExactSpelling = true, SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static extern bool AdjustTokenPrivileges(Microsoft.Win32.SafeHandles.SafeAccessTokenHandle token, [MarshalAs(UnmanagedType.Bool)] bool disableAll, ref TokenPrivilege newState, uint length, nint previousState, nint returnLength);

    /// <summary>Returns a Win32 error code (0 on success), not a BOOL.</summary>
    [DllImport("advapi32.dll", EntryPoint = "InitiateShutdownW", ExactSpelling = true, CharSet = CharSet.Unicode)]
    internal static extern int InitiateShutdown(string? machineName, string? message, uint gracePeriodSeconds, uint flags, uint reason);

    [DllImport("kernel32.dll", EntryPoint = "SetComputerNameExW", ExactSpelling = true, SetLastError = true, CharSet = CharSet.Unicode)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static extern bool SetComputerNameEx(int nameType, string name);

    [DllImport("advapi32.dll", EntryPoint = "LookupAccountSidW", ExactSpelling = true, SetLastError = true, CharSet = CharSet.Unicode)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static extern bool LookupAccountSid(string? systemName, byte[] sid, char[]? name, ref int nameLength, char[]? domainName, ref int domainNameLength, out int use);
}
