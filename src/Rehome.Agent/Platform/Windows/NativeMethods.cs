using System.ComponentModel;
using System.Runtime.Versioning;

namespace Rehome.Agent.Platform.Windows;

/// <summary>
/// The Win32 calls of the Windows platform, one file per library area, all source-generated (<c>LibraryImport</c>).
/// Every failure becomes a <see cref="Win32Exception"/> whose message names the call and carries Windows' text
/// (NET_API codes included, from netmsg.dll), so a log line says what Windows refused.
/// </summary>
[SupportedOSPlatform("windows")]
internal static partial class NativeMethods
{
    internal const int Success = 0;
    internal const int ErrorMoreData = 234;

    /// <summary>Throws when <paramref name="status"/> (a Win32 or NET_API_STATUS code) is not success.</summary>
    internal static void Check(int status, string call)
    {
        if (status != Success)
        {
            throw Failure(status, call);
        }
    }

    internal static Win32Exception Failure(int status, string call) =>
        new(status, WindowsErrors.Describe(NativeWin32Errors.Instance, status, call));
}
