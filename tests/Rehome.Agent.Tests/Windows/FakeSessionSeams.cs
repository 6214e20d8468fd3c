using System.Runtime.Versioning;
using Rehome.Agent.Platform.Windows;

namespace Rehome.Agent.Tests.Windows;

internal sealed class FakeLogonRights : ILogonRights
{
    public Dictionary<string, HashSet<string>> Rights { get; } = new(StringComparer.OrdinalIgnoreCase);

    public string? ComputerSid { get; set; } = FakeLocalAccountCalls.ComputerSid;

    /// <summary>Rights whose removal fails with this error.</summary>
    public Dictionary<(string Sid, string Right), int> FailingRemovals { get; } = [];

    public int GetComputerSid(out string? sid)
    {
        sid = ComputerSid;
        return 0;
    }

    public int Get(string sid, out IReadOnlyList<string> rights)
    {
        rights = Rights.TryGetValue(sid, out var held) ? [.. held] : [];
        return 0;
    }

    /// <summary>After this many more rights are added, the next add ends the agent (a crash); null never.</summary>
    public int? CrashAfterAdds { get; set; }

    public int Add(string sid, string right)
    {
        if (CrashAfterAdds is { } left && left-- <= 0)
        {
            throw new InvalidOperationException("The agent ended here.");
        }

        CrashAfterAdds = CrashAfterAdds is null ? null : CrashAfterAdds - 1;

        if (!Rights.TryGetValue(sid, out var held))
        {
            Rights[sid] = held = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        }

        held.Add(right);
        return 0;
    }

    public int Remove(string sid, string right)
    {
        if (FailingRemovals.TryGetValue((sid, right), out var error))
        {
            return error;
        }

        return Rights.TryGetValue(sid, out var held) && held.Remove(right) ? 0 : 2;
    }

    /// <summary>Every (SID, right) held, for comparing before and after.</summary>
    public IReadOnlyList<string> Snapshot() =>
        [.. Rights.SelectMany(r => r.Value.Select(right => $"{r.Key}:{right}")).Order(StringComparer.Ordinal)];
}

[SupportedOSPlatform("windows")]
internal sealed class FakeSessionCalls : ISessionCalls
{
    public List<TerminalSession> Current { get; } = [];

    public List<(int Session, string Message)> Messages { get; } = [];

    public List<int> Disconnected { get; } = [];

    public List<(int Session, IReadOnlyList<string> Arguments)> Helpers { get; } = [];

    /// <summary>What the helper does, by its first argument.</summary>
    public Dictionary<string, HelperExit> HelperExits { get; } = new() { ["lock"] = new HelperExit(0, 0) };

    public int Response { get; set; } = 1;

    public IReadOnlyList<TerminalSession> Sessions() => Current;

    public int SendMessage(int sessionId, string title, string message, uint style, int timeoutSeconds, bool wait, out int response)
    {
        Messages.Add((sessionId, message));
        response = Response;
        return 0;
    }

    public int Disconnect(int sessionId)
    {
        Disconnected.Add(sessionId);
        return 0;
    }

    public Task<HelperExit> RunHelperAsync(int sessionId, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken ct)
    {
        Helpers.Add((sessionId, arguments));
        return Task.FromResult(HelperExits[arguments[0]]);
    }

    public static TerminalSession Active(int id, string user) => new(id, NativeMethods.WtsConnectState.Active, user);
}
