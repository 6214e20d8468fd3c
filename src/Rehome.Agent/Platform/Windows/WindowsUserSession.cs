using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Microsoft.Extensions.Logging.Abstractions;

namespace Rehome.Agent.Platform.Windows;

/// <summary>
/// The users of a Windows device, reached from the agent's service in session 0: messages through WTSSendMessage
/// (a message box on each user's desktop), locking through WTSDisconnectSession (a service cannot lock another
/// session's workstation; disconnecting keeps the user's programs running and shows the sign-in screen).
/// </summary>
[SupportedOSPlatform("windows")]
public sealed class WindowsUserSession(ILogger? logger = null) : IUserSession
{
    private const string Title = "Rehome";
    private readonly ILogger logger = logger ?? NullLogger.Instance;

    public IReadOnlyList<string> LoggedOnUsers => TerminalSessions.LoggedOnUsers();

    public Task NotifyAsync(string message, CancellationToken ct)
    {
        foreach (var session in ActiveSessions())
        {
            // Not waiting: the notice stays on screen until the user closes it; the job goes on.
            Send(session.Id, message, NativeMethods.MessageBoxOk, timeoutSeconds: 0, wait: false);
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Asks every active session at once and waits for all of them (each at most <paramref name="timeout"/>). One
    /// snooze wins over a start now: someone at the device is not ready. No session, or no answer: NoAnswer.
    /// </summary>
    public async Task<PromptAnswer> AskToStartAsync(string message, bool snoozeAllowed, TimeSpan timeout, CancellationToken ct)
    {
        var sessions = ActiveSessions();
        if (sessions.Count == 0)
        {
            return PromptAnswer.NoAnswer;
        }

        var text = snoozeAllowed ? $"{message}\n\nYes: start now.\nNo: remind me later." : message;
        var style = snoozeAllowed ? NativeMethods.MessageBoxYesNo : NativeMethods.MessageBoxOk;
        var seconds = (int)Math.Clamp(Math.Ceiling(timeout.TotalSeconds), 1, int.MaxValue);
        // WTSSendMessage blocks until the answer; cancelling stops waiting, the message box stays until it times out.
        var asked = sessions.Select(session => Task.Run(() => Send(session.Id, text, style, seconds, wait: true), ct));
        var responses = await Task.WhenAll(asked).WaitAsync(ct);
        var answers = responses.Select(response => response switch
        {
            NativeMethods.IdYes or NativeMethods.IdOk => PromptAnswer.StartNow,
            NativeMethods.IdNo when snoozeAllowed => PromptAnswer.Snooze,
            _ => PromptAnswer.NoAnswer,
        }).ToList();
        var answer = answers.Contains(PromptAnswer.Snooze) ? PromptAnswer.Snooze
            : answers.Contains(PromptAnswer.StartNow) ? PromptAnswer.StartNow
            : PromptAnswer.NoAnswer;
        logger.LogInformation("Asked {Sessions} session(s) to start; the answer is {Answer}", sessions.Count, answer);
        return answer;
    }

    public Task LockAsync(CancellationToken ct)
    {
        foreach (var session in ActiveSessions())
        {
            if (!NativeMethods.WTSDisconnectSession(NativeMethods.WtsCurrentServer, session.Id, wait: true))
            {
                throw NativeMethods.Failure(Marshal.GetLastPInvokeError(), $"WTSDisconnectSession({session.Id})");
            }

            logger.LogInformation("Disconnected session {SessionId} of {User}", session.Id, session.User);
        }

        return Task.CompletedTask;
    }

    /// <summary>Nothing to do: a disconnected user gets back in by signing in with their password.</summary>
    public Task UnlockAsync(CancellationToken ct)
    {
        logger.LogInformation("Sessions stay at the sign-in screen until their users sign in again");
        return Task.CompletedTask;
    }

    private static List<TerminalSession> ActiveSessions() => [.. TerminalSessions.Enumerate().Where(s => s.IsActiveUserSession)];

    private static int Send(int sessionId, string message, uint buttons, int timeoutSeconds, bool wait)
    {
        var style = buttons | NativeMethods.MessageBoxIconInformation | NativeMethods.MessageBoxSetForeground | NativeMethods.MessageBoxTopMost;
        if (!NativeMethods.WTSSendMessage(NativeMethods.WtsCurrentServer, sessionId, Title, Title.Length * sizeof(char), message, message.Length * sizeof(char), style, timeoutSeconds, out var response, wait))
        {
            throw NativeMethods.Failure(Marshal.GetLastPInvokeError(), $"WTSSendMessage({sessionId})");
        }

        return response;
    }
}
