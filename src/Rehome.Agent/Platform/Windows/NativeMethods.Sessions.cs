using System.Runtime.InteropServices;

namespace Rehome.Agent.Platform.Windows;

/// <summary>
/// Starting the agent's helper in a user's session (wtsapi32, userenv, kernel32), and what the helper itself calls
/// there: LockWorkStation, the credential prompt (credui) and LogonUser.
/// </summary>
internal static partial class NativeMethods
{
    internal const uint CreateUnicodeEnvironment = 0x00000400;
    internal const uint CreateNoWindow = 0x08000000;
    internal const uint WaitObject0 = 0x00000000;
    internal const uint WaitTimeout = 0x00000102;
    internal const uint StillActive = 259;
    internal const int ErrorCancelled = 1223;

    internal const int Logon32LogonInteractive = 2;
    internal const int Logon32ProviderDefault = 0;

    /// <summary>CREDUIWIN_GENERIC: the prompt returns the user name and password as typed.</summary>
    internal const uint CredUiWinGeneric = 0x00000001;

    internal const uint CredPackGenericCredentials = 0x4;

    /// <summary>STARTUPINFOW.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct StartupInfo
    {
        public uint Size;
        public nint Reserved;
        public nint Desktop;
        public nint Title;
        public uint X;
        public uint Y;
        public uint XSize;
        public uint YSize;
        public uint XCountChars;
        public uint YCountChars;
        public uint FillAttribute;
        public uint Flags;
        public ushort ShowWindow;
        public ushort Reserved2Size;
        public nint Reserved2;
        public nint StandardInput;
        public nint StandardOutput;
        public nint StandardError;
    }

    /// <summary>PROCESS_INFORMATION.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ProcessInformation
    {
        public nint Process;
        public nint Thread;
        public uint ProcessId;
        public uint ThreadId;
    }

    /// <summary>CREDUI_INFOW.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct CredUiInfo
    {
        public uint Size;
        public nint Parent;
        public nint MessageText;
        public nint CaptionText;
        public nint Banner;
    }

    /// <summary>Needs SeTcbPrivilege (LocalSystem): the primary token of the user signed in to <paramref name="sessionId"/>.</summary>
    [LibraryImport("wtsapi32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static partial bool WTSQueryUserToken(uint sessionId, out nint token);

    [LibraryImport("userenv.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static partial bool CreateEnvironmentBlock(out nint environment, nint token, [MarshalAs(UnmanagedType.Bool)] bool inherit);

    [LibraryImport("userenv.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static partial bool DestroyEnvironmentBlock(nint environment);

    /// <summary><paramref name="commandLine"/> must be writable and end with a NUL (CreateProcessW may change it in place).</summary>
    [LibraryImport("advapi32.dll", EntryPoint = "CreateProcessAsUserW", SetLastError = true, StringMarshalling = StringMarshalling.Utf16)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static partial bool CreateProcessAsUser(
        nint token,
        string? applicationName,
        [In, Out] char[] commandLine,
        nint processAttributes,
        nint threadAttributes,
        [MarshalAs(UnmanagedType.Bool)] bool inheritHandles,
        uint creationFlags,
        nint environment,
        string? currentDirectory,
        in StartupInfo startupInfo,
        out ProcessInformation processInformation);

    [LibraryImport("kernel32.dll", SetLastError = true)]
    internal static partial uint WaitForSingleObject(nint handle, uint milliseconds);

    [LibraryImport("kernel32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static partial bool GetExitCodeProcess(nint process, out uint exitCode);

    [LibraryImport("kernel32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static partial bool TerminateProcess(nint process, uint exitCode);

    [LibraryImport("kernel32.dll", EntryPoint = "CloseHandle", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static partial bool CloseKernelHandle(nint handle);

    [LibraryImport("user32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static partial bool LockWorkStation();

    /// <summary>Returns a Win32 error (ERROR_CANCELLED when the user closed the prompt).</summary>
    [LibraryImport("credui.dll", EntryPoint = "CredUIPromptForWindowsCredentialsW")]
    internal static partial int CredUIPromptForWindowsCredentials(
        in CredUiInfo info,
        int authError,
        ref uint authPackage,
        nint inAuthBuffer,
        uint inAuthBufferSize,
        out nint outAuthBuffer,
        out uint outAuthBufferSize,
        nint save,
        uint flags);

    [LibraryImport("credui.dll", EntryPoint = "CredPackAuthenticationBufferW", SetLastError = true, StringMarshalling = StringMarshalling.Utf16)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static partial bool CredPackAuthenticationBuffer(uint flags, string userName, string password, nint packedCredentials, ref uint packedSize);

    /// <summary>Lengths are in characters, the terminator included.</summary>
    [LibraryImport("credui.dll", EntryPoint = "CredUnPackAuthenticationBufferW", SetLastError = true, StringMarshalling = StringMarshalling.Utf16)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static partial bool CredUnPackAuthenticationBuffer(
        uint flags,
        nint authBuffer,
        uint authBufferSize,
        [Out] char[] userName,
        ref uint userNameLength,
        [Out] char[] domainName,
        ref uint domainNameLength,
        [Out] char[] password,
        ref uint passwordLength);

    /// <summary><paramref name="password"/> is NUL-terminated and cleared by the caller after the call.</summary>
    [LibraryImport("advapi32.dll", EntryPoint = "LogonUserW", SetLastError = true, StringMarshalling = StringMarshalling.Utf16)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static partial bool LogonUser(string userName, string? domain, char[] password, int logonType, int logonProvider, out nint token);
}
