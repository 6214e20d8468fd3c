using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text;

namespace Rehome.Agent.Platform.Windows;

/// <summary>How a helper in a user's session ended.</summary>
/// <param name="StartError">The Win32 error that kept it from starting (WTSQueryUserToken, CreateProcessAsUser); 0 when it ran.</param>
/// <param name="ExitCode">Its exit code; null when it did not end in time and was ended.</param>
internal sealed record HelperExit(int StartError, int? ExitCode)
{
    public static HelperExit NotStarted(int error) => new(error, null);
}

/// <summary>
/// The native seam of <see cref="WindowsUserSession"/>: the sessions (wtsapi32), messages to them, disconnecting
/// them, and the agent's helper started in one of them as its user. Status codes are Win32 errors, 0 for success.
/// </summary>
internal interface ISessionCalls
{
    /// <summary>WTSEnumerateSessions with WTSQuerySessionInformation for each user.</summary>
    IReadOnlyList<TerminalSession> Sessions();

    /// <summary>WTSSendMessage; <paramref name="response"/> is the button (IDOK, IDYES, IDNO, IDTIMEOUT).</summary>
    int SendMessage(int sessionId, string title, string message, uint style, int timeoutSeconds, bool wait, out int response);

    /// <summary>WTSDisconnectSession.</summary>
    int Disconnect(int sessionId);

    /// <summary>
    /// WTSQueryUserToken, CreateEnvironmentBlock and CreateProcessAsUser of the agent's own program with
    /// <c>--session-helper</c> and <paramref name="arguments"/> on the user's desktop; waits at most <paramref name="timeout"/>
    /// (then, or when <paramref name="ct"/> fires, ends it).
    /// </summary>
    Task<HelperExit> RunHelperAsync(int sessionId, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken ct);
}

[SupportedOSPlatform("windows")]
internal sealed class NativeSessionCalls : ISessionCalls
{
    private const string UserDesktop = @"winsta0\default";

    public IReadOnlyList<TerminalSession> Sessions() => TerminalSessions.Enumerate();

    public int SendMessage(int sessionId, string title, string message, uint style, int timeoutSeconds, bool wait, out int response) =>
        NativeMethods.WTSSendMessage(NativeMethods.WtsCurrentServer, sessionId, title, title.Length * sizeof(char), message, message.Length * sizeof(char), style, timeoutSeconds, out response, wait)
            ? NativeMethods.Success
            : Marshal.GetLastPInvokeError();

    public int Disconnect(int sessionId) =>
        NativeMethods.WTSDisconnectSession(NativeMethods.WtsCurrentServer, sessionId, wait: true) ? NativeMethods.Success : Marshal.GetLastPInvokeError();

    public async Task<HelperExit> RunHelperAsync(int sessionId, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken ct)
    {
        var program = Environment.ProcessPath ?? throw new InvalidOperationException("The agent does not know its own program file.");
        var started = Start(sessionId, program, [SessionHelper.Switch, .. arguments], out var process);
        if (started != NativeMethods.Success)
        {
            return HelperExit.NotStarted(started);
        }

        try
        {
            var deadline = DateTime.UtcNow + timeout;
            // Waits in short slices so that cancelling the job ends the helper soon.
            while (NativeMethods.WaitForSingleObject(process, 250) == NativeMethods.WaitTimeout)
            {
                if (ct.IsCancellationRequested || DateTime.UtcNow >= deadline)
                {
                    _ = NativeMethods.TerminateProcess(process, NativeMethods.ErrorCancelled);
                    ct.ThrowIfCancellationRequested();
                    return new HelperExit(NativeMethods.Success, null);
                }

                await Task.Yield();
            }

            return NativeMethods.GetExitCodeProcess(process, out var exitCode)
                ? new HelperExit(NativeMethods.Success, (int)exitCode)
                : HelperExit.NotStarted(Marshal.GetLastPInvokeError());
        }
        finally
        {
            _ = NativeMethods.CloseKernelHandle(process);
        }
    }

    /// <summary>A command line CreateProcess splits back into <paramref name="arguments"/> (the C runtime's rules).</summary>
    internal static string CommandLine(string program, IReadOnlyList<string> arguments)
    {
        var line = new StringBuilder();
        foreach (var argument in arguments.Prepend(program))
        {
            if (line.Length > 0)
            {
                line.Append(' ');
            }

            if (argument.Length > 0 && argument.IndexOfAny([' ', '\t', '"']) < 0)
            {
                line.Append(argument);
                continue;
            }

            line.Append('"');
            var backslashes = 0;
            foreach (var c in argument)
            {
                if (c == '\\')
                {
                    backslashes++;
                    continue;
                }

                // Backslashes before a quote are doubled, and the quote escaped.
                line.Append('\\', c == '"' ? (backslashes * 2) + 1 : backslashes);
                line.Append(c);
                backslashes = 0;
            }

            line.Append('\\', backslashes * 2).Append('"');
        }

        return line.ToString();
    }

    private static int Start(int sessionId, string program, IReadOnlyList<string> arguments, out nint process)
    {
        process = 0;
        if (!NativeMethods.WTSQueryUserToken((uint)sessionId, out var token))
        {
            return Marshal.GetLastPInvokeError();
        }

        var environment = (nint)0;
        var desktop = Marshal.StringToHGlobalUni(UserDesktop);
        try
        {
            if (!NativeMethods.CreateEnvironmentBlock(out environment, token, inherit: false))
            {
                return Marshal.GetLastPInvokeError();
            }

            var startup = new NativeMethods.StartupInfo { Size = (uint)Marshal.SizeOf<NativeMethods.StartupInfo>(), Desktop = desktop };
            var commandLine = (CommandLine(program, arguments) + '\0').ToCharArray();
            if (!NativeMethods.CreateProcessAsUser(token, program, commandLine, 0, 0, false, NativeMethods.CreateUnicodeEnvironment | NativeMethods.CreateNoWindow, environment, null, startup, out var information))
            {
                return Marshal.GetLastPInvokeError();
            }

            _ = NativeMethods.CloseKernelHandle(information.Thread);
            process = information.Process;
            return NativeMethods.Success;
        }
        finally
        {
            if (environment != 0)
            {
                _ = NativeMethods.DestroyEnvironmentBlock(environment);
            }

            Marshal.FreeHGlobal(desktop);
            _ = NativeMethods.CloseKernelHandle(token);
        }
    }
}
