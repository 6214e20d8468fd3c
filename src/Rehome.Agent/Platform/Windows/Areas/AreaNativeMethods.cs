using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Rehome.Agent.Platform.Windows.Areas;

/// <summary>
/// The Win32 calls of the device areas (shares, services, printers, task descriptors; the service control manager's
/// handles and configuration through the installer's declarations), source-generated
/// (<c>LibraryImport</c>), and the structures they read, laid out as the SDK headers declare them (their x64 layout
/// is checked by tests). Buffers whose content points into itself are unmanaged memory, never a movable array.
/// </summary>
[SupportedOSPlatform("windows")]
internal static partial class AreaNativeMethods
{
    internal const int Success = 0;
    internal const int ErrorInsufficientBuffer = 122;
    internal const int ErrorMoreData = 234;
    internal const int MaxPreferredLength = -1;
    internal const int MaxBuffer = 64 * 1024 * 1024;
    internal const uint ScManagerEnumerateService = 0x0004;
    internal const uint ServiceQueryConfig = 0x0001;
    internal const uint ServiceChangeConfig = 0x0002;
    internal const uint ServiceWin32 = 0x30;
    internal const uint ServiceStateAll = 3;
    internal const int ScEnumProcessInfo = 0;
    internal const uint ServiceNoChange = 0xFFFFFFFF;
    internal const uint PrinterEnumLocal = 0x2;
    internal const ushort SelfRelative = 0x8000;
    internal const uint SddlRevision1 = 1;

    /// <summary>SHARE_INFO_502 (lmshare.h).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ShareInfo502
    {
        public nint NetName;
        public uint Type;
        public nint Remark;
        public uint Permissions;
        public uint MaxUses;
        public uint CurrentUses;
        public nint Path;
        public nint Password;
        public uint Reserved;
        public nint SecurityDescriptor;
    }

    /// <summary>SHARE_INFO_1501 (lmshare.h).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ShareInfo1501
    {
        public uint Reserved;
        public nint SecurityDescriptor;
    }

    /// <summary>ENUM_SERVICE_STATUS_PROCESSW (winsvc.h): two names and SERVICE_STATUS_PROCESS (nine DWORDs).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct EnumServiceStatusProcess
    {
        public nint ServiceName;
        public nint DisplayName;
        public uint ServiceType;
        public uint CurrentState;
        public uint ControlsAccepted;
        public uint Win32ExitCode;
        public uint ServiceSpecificExitCode;
        public uint CheckPoint;
        public uint WaitHint;
        public uint ProcessId;
        public uint ServiceFlags;
    }

    /// <summary>QUERY_SERVICE_CONFIGW (winsvc.h).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct QueryServiceConfig
    {
        public uint ServiceType;
        public uint StartType;
        public uint ErrorControl;
        public nint BinaryPathName;
        public nint LoadOrderGroup;
        public uint TagId;
        public nint Dependencies;
        public nint ServiceStartName;
        public nint DisplayName;
    }

    /// <summary>PRINTER_INFO_4W (winspool.h).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct PrinterInfo4
    {
        public nint PrinterName;
        public nint ServerName;
        public uint Attributes;
    }

    /// <summary>PRINTER_INFO_3 (winspool.h): the printer's security descriptor.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct PrinterInfo3
    {
        public nint SecurityDescriptor;
    }

    /// <summary>PRINTER_DEFAULTSW (winspool.h).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct PrinterDefaults
    {
        public nint DataType;
        public nint DevMode;
        public uint DesiredAccess;
    }

    [LibraryImport("netapi32.dll", StringMarshalling = StringMarshalling.Utf16)]
    internal static partial int NetShareEnum(string? server, int level, out nint buffer, int preferredMaximumLength, out int entriesRead, out int totalEntries, ref uint resumeHandle);

    [LibraryImport("netapi32.dll", StringMarshalling = StringMarshalling.Utf16)]
    internal static partial int NetShareGetInfo(string? server, string netName, int level, out nint buffer);

    [LibraryImport("netapi32.dll", StringMarshalling = StringMarshalling.Utf16)]
    internal static partial int NetShareSetInfo(string? server, string netName, int level, in ShareInfo1501 info, out int parameterError);

    [LibraryImport("netapi32.dll")]
    internal static partial int NetApiBufferFree(nint buffer);

    [LibraryImport("advapi32.dll", EntryPoint = "EnumServicesStatusExW", SetLastError = true, StringMarshalling = StringMarshalling.Utf16)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static partial bool EnumServicesStatusEx(
        nint manager, int infoLevel, uint serviceType, uint serviceState, nint buffer, int bufferSize, out int bytesNeeded,
        out int servicesReturned, ref uint resumeHandle, string? groupName);

    [LibraryImport("advapi32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static partial bool QueryServiceObjectSecurity(nint service, uint securityInformation, [Out] byte[]? descriptor, int bufferSize, out int bytesNeeded);

    [LibraryImport("advapi32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static partial bool SetServiceObjectSecurity(nint service, uint securityInformation, byte[] descriptor);

    [LibraryImport("advapi32.dll", EntryPoint = "QueryServiceConfigW", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static partial bool QueryServiceConfiguration(nint service, nint buffer, int bufferSize, out int bytesNeeded);

    [LibraryImport("winspool.drv", EntryPoint = "EnumPrintersW", SetLastError = true, StringMarshalling = StringMarshalling.Utf16)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static partial bool EnumPrinters(uint flags, string? name, int level, nint buffer, int bufferSize, out int bytesNeeded, out int returned);

    [LibraryImport("winspool.drv", EntryPoint = "OpenPrinterW", SetLastError = true, StringMarshalling = StringMarshalling.Utf16)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static partial bool OpenPrinter(string printerName, out nint printer, in PrinterDefaults defaults);

    [LibraryImport("winspool.drv", EntryPoint = "GetPrinterW", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static partial bool GetPrinter(nint printer, int level, nint buffer, int bufferSize, out int bytesNeeded);

    [LibraryImport("winspool.drv", EntryPoint = "SetPrinterW", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static partial bool SetPrinter(nint printer, int level, in PrinterInfo3 info, int command);

    [LibraryImport("winspool.drv", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static partial bool ClosePrinter(nint printer);

    [LibraryImport("advapi32.dll")]
    internal static partial uint GetSecurityDescriptorLength(nint descriptor);

    [LibraryImport("advapi32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static partial bool MakeSelfRelativeSD(nint absolute, [Out] byte[]? selfRelative, ref int length);

    [LibraryImport("advapi32.dll", EntryPoint = "ConvertStringSecurityDescriptorToSecurityDescriptorW", SetLastError = true, StringMarshalling = StringMarshalling.Utf16)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static partial bool DescriptorOfSddl(string sddl, uint revision, out nint descriptor, out int length);

    [LibraryImport("advapi32.dll", EntryPoint = "ConvertSecurityDescriptorToStringSecurityDescriptorW", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static partial bool SddlOfDescriptor(byte[] descriptor, uint revision, uint securityInformation, out nint sddl, out int length);

    [LibraryImport("kernel32.dll")]
    internal static partial nint LocalFree(nint memory);

    /// <summary>Copies the descriptor at <paramref name="descriptor"/> as self-relative bytes (made so when it is absolute).</summary>
    internal static int CopyDescriptor(nint descriptor, out byte[]? bytes)
    {
        bytes = null;
        if (descriptor == 0)
        {
            return Success;
        }

        if (((ushort)Marshal.ReadInt16(descriptor, 2) & SelfRelative) != 0)
        {
            bytes = new byte[GetSecurityDescriptorLength(descriptor)];
            Marshal.Copy(descriptor, bytes, 0, bytes.Length);
            return Success;
        }

        var length = 0;
        _ = MakeSelfRelativeSD(descriptor, null, ref length);
        var buffer = new byte[length];
        if (!MakeSelfRelativeSD(descriptor, buffer, ref length))
        {
            return Marshal.GetLastPInvokeError();
        }

        bytes = buffer;
        return Success;
    }

    /// <summary>
    /// Calls <paramref name="call"/> with unmanaged buffers that grow until the whole answer fits (a call that wants
    /// more says so with ERROR_INSUFFICIENT_BUFFER or ERROR_MORE_DATA and a size, for some calls only what remains),
    /// then reads the answer. Each attempt starts the call afresh (an enumeration from its first entry).
    /// </summary>
    internal static int WithBuffer(Func<nint, int, (bool Done, int Needed)> call, Func<nint, int> read)
    {
        var size = 16 * 1024;
        while (true)
        {
            var buffer = Marshal.AllocHGlobal(size);
            try
            {
                var (done, needed) = call(buffer, size);
                if (done)
                {
                    return read(buffer);
                }

                var error = Marshal.GetLastPInvokeError();
                if (error is not (ErrorInsufficientBuffer or ErrorMoreData) || size >= MaxBuffer)
                {
                    return error == Success ? ErrorInsufficientBuffer : error;
                }

                size = Math.Min(MaxBuffer, Math.Max(size * 2, needed));
            }
            finally
            {
                Marshal.FreeHGlobal(buffer);
            }
        }
    }
}
