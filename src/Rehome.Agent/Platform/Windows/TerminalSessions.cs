using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Rehome.Agent.Platform.Windows;

/// <summary>A Windows session (console or Remote Desktop) and the user signed in to it, if any (<c>DOMAIN\user</c>).</summary>
internal sealed record TerminalSession(int Id, NativeMethods.WtsConnectState State, string? User)
{
    /// <summary>A user works in it now (not disconnected; not session 0, where services run).</summary>
    public bool IsActiveUserSession => Id != 0 && State == NativeMethods.WtsConnectState.Active && User is not null;
}

/// <summary>The sessions of this machine through WTSEnumerateSessions and WTSQuerySessionInformation.</summary>
[SupportedOSPlatform("windows")]
internal static class TerminalSessions
{
    public static IReadOnlyList<TerminalSession> Enumerate()
    {
        if (!NativeMethods.WTSEnumerateSessions(NativeMethods.WtsCurrentServer, 0, 1, out var buffer, out var count))
        {
            throw NativeMethods.Failure(Marshal.GetLastPInvokeError(), "WTSEnumerateSessions");
        }

        var sessions = new List<TerminalSession>(count);
        using (buffer)
        {
            var start = buffer.DangerousGetHandle();
            var size = Marshal.SizeOf<NativeMethods.WtsSessionInfo>();
            for (var i = 0; i < count; i++)
            {
                var info = Marshal.PtrToStructure<NativeMethods.WtsSessionInfo>(start + (i * size));
                sessions.Add(new TerminalSession(info.SessionId, info.State, QueryUser(info.SessionId)));
            }
        }

        return sessions;
    }

    /// <summary>The users signed in, connected or not, each once.</summary>
    public static IReadOnlyList<string> LoggedOnUsers() =>
        [.. Enumerate().Select(s => s.User).OfType<string>().Distinct(StringComparer.OrdinalIgnoreCase)];

    private static string? QueryUser(int sessionId)
    {
        var user = Query(sessionId, NativeMethods.WtsUserName);
        if (string.IsNullOrEmpty(user))
        {
            return null;
        }

        var domain = Query(sessionId, NativeMethods.WtsDomainName);
        return string.IsNullOrEmpty(domain) ? user : $"{domain}\\{user}";
    }

    /// <summary>Null when the session ended between enumerating and asking (a race, not an error).</summary>
    private static string? Query(int sessionId, int infoClass)
    {
        if (!NativeMethods.WTSQuerySessionInformation(NativeMethods.WtsCurrentServer, sessionId, infoClass, out var buffer, out _))
        {
            buffer.Dispose();
            return null;
        }

        using (buffer)
        {
            return Marshal.PtrToStringUni(buffer.DangerousGetHandle());
        }
    }
}
