using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Rehome.Agent.Platform.Windows;

/// <summary>Memory that wtsapi32 allocated; released with WTSFreeMemory.</summary>
[SupportedOSPlatform("windows")]
internal sealed class WtsMemory : NativeBuffer
{
    protected override bool ReleaseHandle()
    {
        NativeMethods.WTSFreeMemory(handle);
        return true;
    }
}

/// <summary>wtsapi32: the sessions of this machine, their users, messages to them, disconnecting them.</summary>
internal static partial class NativeMethods
{
    internal const nint WtsCurrentServer = 0;
    internal const int WtsUserName = 5;
    internal const int WtsDomainName = 7;

    internal const uint MessageBoxOk = 0x0;
    internal const uint MessageBoxYesNo = 0x4;
    internal const uint MessageBoxIconInformation = 0x40;
    internal const uint MessageBoxSetForeground = 0x10000;
    internal const uint MessageBoxTopMost = 0x40000;
    internal const int IdOk = 1;
    internal const int IdYes = 6;
    internal const int IdNo = 7;
    internal const int IdTimeout = 32000;

    [LibraryImport("wtsapi32.dll")]
    internal static partial void WTSFreeMemory(nint memory);

    [LibraryImport("wtsapi32.dll", EntryPoint = "WTSEnumerateSessionsW", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static partial bool WTSEnumerateSessions(nint server, int reserved, int version, out WtsMemory sessions, out int count);

    [LibraryImport("wtsapi32.dll", EntryPoint = "WTSQuerySessionInformationW", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static partial bool WTSQuerySessionInformation(nint server, int sessionId, int infoClass, out WtsMemory buffer, out int bytesReturned);

    /// <summary>Lengths are in bytes; <paramref name="timeoutSeconds"/> 0 waits forever.</summary>
    [LibraryImport("wtsapi32.dll", EntryPoint = "WTSSendMessageW", SetLastError = true, StringMarshalling = StringMarshalling.Utf16)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static partial bool WTSSendMessage(nint server, int sessionId, string title, int titleLength, string message, int messageLength, uint style, int timeoutSeconds, out int response, [MarshalAs(UnmanagedType.Bool)] bool wait);

    [LibraryImport("wtsapi32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static partial bool WTSDisconnectSession(nint server, int sessionId, [MarshalAs(UnmanagedType.Bool)] bool wait);
}
