using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;

namespace Rehome.Agent.Platform.Windows;

/// <summary>A kernel object handle (a process token); closed with CloseHandle.</summary>
[SupportedOSPlatform("windows")]
internal sealed class KernelHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public KernelHandle()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle() => NativeMethods.CloseHandle(handle);
}

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
        var error = TryEnable(privilege);
        if (error != NativeMethods.Success)
        {
            throw NativeMethods.Failure(error, $"AdjustTokenPrivileges({privilege}): the agent's account does not hold it (run the service as LocalSystem)");
        }
    }

    /// <summary>Enables <paramref name="privilege"/>; returns the Win32 error (ERROR_NOT_ALL_ASSIGNED when the account does not hold it).</summary>
    public static int TryEnable(string privilege)
    {
        if (!NativeMethods.OpenProcessToken(NativeMethods.GetCurrentProcess(), AdjustPrivileges | QueryToken, out var token))
        {
            return Marshal.GetLastPInvokeError();
        }

        using (token)
        {
            if (!NativeMethods.LookupPrivilegeValue(null, privilege, out var luid))
            {
                return Marshal.GetLastPInvokeError();
            }

            var state = new NativeMethods.TokenPrivilege { Count = 1, Luid = luid, Attributes = PrivilegeEnabled };
            var adjusted = NativeMethods.AdjustTokenPrivileges(token, false, ref state, 0, 0, 0);
            var error = Marshal.GetLastPInvokeError();
            return !adjusted ? error : error == NotAllAssigned ? NotAllAssigned : NativeMethods.Success;
        }
    }
}

/// <summary>kernel32 and advapi32: restarting, naming the computer, privileges, account names, power requests, messages.</summary>
internal static partial class NativeMethods
{
    internal const int ComputerNamePhysicalDnsHostname = 5;

    /// <summary>POWER_REQUEST_CONTEXT_VERSION (DIAGNOSTIC_REASON_VERSION).</summary>
    internal const uint PowerRequestContextVersion = 0;

    internal const uint PowerRequestContextSimpleString = 0x1;

    internal const uint FormatMessageIgnoreInserts = 0x00000200;
    internal const uint FormatMessageFromHModule = 0x00000800;
    internal const uint FormatMessageFromSystem = 0x00001000;
    internal const uint LoadLibraryAsDatafile = 0x00000002;

    [LibraryImport("kernel32.dll")]
    internal static partial nint GetCurrentProcess();

    /// <summary>The firmware table <paramref name="firmwareTableId"/> of a provider ('RSMB': the raw SMBIOS data); returns the bytes needed or written.</summary>
    [LibraryImport("kernel32.dll", SetLastError = true)]
    internal static partial uint GetSystemFirmwareTable(uint firmwareTableProviderSignature, uint firmwareTableId, byte[]? firmwareTableBuffer, uint bufferSize);

    [LibraryImport("kernel32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static partial bool CloseHandle(nint handle);

    [LibraryImport("advapi32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static partial bool OpenProcessToken(nint process, uint access, out KernelHandle token);

    [LibraryImport("advapi32.dll", EntryPoint = "LookupPrivilegeValueW", SetLastError = true, StringMarshalling = StringMarshalling.Utf16)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static partial bool LookupPrivilegeValue(string? system, string name, out long luid);

    [LibraryImport("advapi32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static partial bool AdjustTokenPrivileges(KernelHandle token, [MarshalAs(UnmanagedType.Bool)] bool disableAll, ref TokenPrivilege newState, uint length, nint previousState, nint returnLength);

    /// <summary>Returns a Win32 error code (0 on success), not a BOOL.</summary>
    [LibraryImport("advapi32.dll", EntryPoint = "InitiateShutdownW", StringMarshalling = StringMarshalling.Utf16)]
    internal static partial int InitiateShutdown(string? machineName, string? message, uint gracePeriodSeconds, uint flags, uint reason);

    [LibraryImport("kernel32.dll", EntryPoint = "SetComputerNameExW", SetLastError = true, StringMarshalling = StringMarshalling.Utf16)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static partial bool SetComputerNameEx(int nameType, string name);

    /// <summary><paramref name="size"/> is in characters: the buffer's on the way in, the name's (or the one needed) on the way out.</summary>
    [LibraryImport("kernel32.dll", EntryPoint = "GetComputerNameExW", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static unsafe partial bool GetComputerNameEx(int nameType, char* buffer, ref uint size);

    [LibraryImport("advapi32.dll", EntryPoint = "LookupAccountSidW", SetLastError = true, StringMarshalling = StringMarshalling.Utf16)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static partial bool LookupAccountSid(string? systemName, byte[] sid, [Out] char[]? name, ref int nameLength, [Out] char[]? domainName, ref int domainNameLength, out int use);

    /// <summary>Returns INVALID_HANDLE_VALUE (-1) on failure.</summary>
    [LibraryImport("kernel32.dll", SetLastError = true)]
    internal static partial nint PowerCreateRequest(in ReasonContext context);

    [LibraryImport("kernel32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static partial bool PowerSetRequest(nint request, PowerRequestType type);

    [LibraryImport("kernel32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static partial bool PowerClearRequest(nint request, PowerRequestType type);

    [LibraryImport("kernel32.dll", EntryPoint = "FormatMessageW", SetLastError = true)]
    internal static unsafe partial uint FormatMessage(uint flags, nint source, uint messageId, uint languageId, char* buffer, uint size, nint arguments);

    [LibraryImport("kernel32.dll", EntryPoint = "LoadLibraryExW", SetLastError = true, StringMarshalling = StringMarshalling.Utf16)]
    internal static partial nint LoadLibraryEx(string fileName, nint file, uint flags);
}
