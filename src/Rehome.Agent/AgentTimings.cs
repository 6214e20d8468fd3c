using Rehome.Protocol;

namespace Rehome.Agent;

/// <summary>The first and the longest wait of a retry with back-off.</summary>
public sealed record RetryTimings(TimeSpan First, TimeSpan Max);

/// <summary>
/// Every interval, timeout and back-off of the agent that is not a setting in <see cref="AgentOptions"/>, in one
/// place (docs/timings.md says why each is what it is). The ones an operator sets are in <see cref="AgentOptions"/>.
/// </summary>
public static class AgentTimings
{
    /// <summary>A poll that failed (server or network down): jittered back-off, reset by the next answer.</summary>
    public static RetryTimings PollRetry { get; } = new(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(60));

    /// <summary>Enrollment, device facts, key binding: calls the agent cannot go on without.</summary>
    public static RetryTimings StartupRetry { get; } = new(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(30));

    /// <summary>Calls a running job makes (directory actions, SID maps, tickets, the completion): kept short, the lease runs.</summary>
    public static RetryTimings JobCallRetry { get; } = new(TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(15));

    /// <summary>A step that failed after the point of no return is tried again from this wait, doubling up to the next.</summary>
    public static TimeSpan FirstStepRetryDelay { get; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest wait between two tries of a step after the point of no return.</summary>
    public static TimeSpan MaxStepRetryDelay { get; } = TimeSpan.FromMinutes(5);

    /// <summary>Longest pause between two progress reports (lease renewals) while a step runs; a quarter of the lease when shorter.</summary>
    public static TimeSpan MaxReportInterval { get; } = TimeSpan.FromSeconds(AgentProtocol.OwnReportSeconds);

    /// <summary>After an unexpected fault the supervisor waits this long before starting a fresh runtime from the journal.</summary>
    public static TimeSpan RestartAfterCrash { get; } = TimeSpan.FromSeconds(1);
}
