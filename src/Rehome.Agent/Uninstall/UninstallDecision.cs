using Rehome.Agent.Journal;

namespace Rehome.Agent.Uninstall;

/// <summary>Whether the agent may remove itself now and, if not, why it waits.</summary>
public sealed record UninstallVerdict(bool SafeNow, string? WaitsFor)
{
    public static UninstallVerdict Now { get; } = new(true, null);
}

/// <summary>
/// When an agent told to uninstall acts: only at a safe point, with no job held and nothing open in its journal (a
/// job running or resuming, a completion the server has not taken yet) and sign-in not blocked by a job. A job it
/// holds finishes first. Pure.
/// </summary>
public static class UninstallDecision
{
    public static UninstallVerdict Decide(IReadOnlyList<JournalRecord> unfinished, bool signInBlocked)
    {
        ArgumentNullException.ThrowIfNull(unfinished);
        var open = unfinished.Where(r => r.Phase != JournalPhase.Closed).OrderBy(r => r.StartedAt).FirstOrDefault();
        if (open is not null)
        {
            var job = $"job {open.Assignment.JobId} ({open.Assignment.Kind})";
            return new(false, open.Phase == JournalPhase.Completing
                ? $"{job} ended; the server has not taken its completion yet"
                : $"{job} is not over{(open.RunningStep is { } step ? $" (step {step})" : "")}");
        }
        return signInBlocked ? new(false, "sign-in is blocked by a job; it is lifted first") : UninstallVerdict.Now;
    }
}
