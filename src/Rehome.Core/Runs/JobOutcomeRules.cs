namespace Rehome.Core.Runs;

/// <summary>A status a job is moved to by the server (not by its agent), with the code and message written on it.</summary>
public sealed record ServerOutcome(JobStatus Status, string? Code, string? Message)
{
    /// <summary>Whether the job is over with this outcome (and its dependents are released or failed).</summary>
    public bool IsOver => !Status.IsActive();
}

/// <summary>The facts about a running job whose lease lapsed: its agent stopped renewing it.</summary>
/// <param name="StopRequested">An administrator asked the job to stop.</param>
/// <param name="Attempts">How many times the job was leased (this lease included).</param>
/// <param name="AgentLastSeen">When the job's agent was last heard from (the store's last-seen), if known.</param>
public sealed record LapsedLease(bool StopRequested, int Attempts, DateTimeOffset? AgentLastSeen);

/// <summary>The limits that decide when the server gives up on a job whose device is silent.</summary>
/// <param name="MaxAttempts">After this many lapsed leases a job fails.</param>
/// <param name="DeviceOfflineLimit">How long a device may be unheard of before its job fails; null for no limit.</param>
public sealed record SilenceLimits(int MaxAttempts, TimeSpan? DeviceOfflineLimit);

/// <summary>
/// What the server does with a job whose device stopped answering. Pure functions: the engine reads the
/// facts, asks here, and writes the answer with a conditional UPDATE.
/// </summary>
public static class JobOutcomeRules
{
    /// <summary>
    /// After a lapsed lease: a stop that was asked for ends the job Stopped; too many lapsed leases fail it; a
    /// device unheard of for longer than the policy allows fails it; otherwise the job goes back to its queue.
    /// </summary>
    public static ServerOutcome AfterLapsedLease(LapsedLease lease, SilenceLimits limits, DateTimeOffset now)
    {
        if (lease.StopRequested)
        {
            return new(JobStatus.Stopped, JobErrorCodes.StoppedByAdministrator, "Stopped: the agent did not report back after the stop request.");
        }
        if (lease.Attempts >= limits.MaxAttempts)
        {
            return new(JobStatus.Failed, JobErrorCodes.LeaseLapsed,
                $"The device's agent stopped reporting {lease.Attempts} time(s); check that the device is on and its agent runs, then re-run.");
        }
        return DeviceOffline(lease.AgentLastSeen, limits.DeviceOfflineLimit, now)
            ?? new(JobStatus.WaitingToStart, JobErrorCodes.LeaseLapsed, "The device's agent stopped reporting; the job went back to its queue and will resume.");
    }

    /// <summary>
    /// A job (running with a lapsed lease, or waiting for an agent that enrolled) whose device has not been
    /// heard of for longer than the limit fails with <see cref="JobErrorCodes.DeviceOffline"/>; null while it
    /// may still come back (or was never seen: an agent not yet enrolled is not offline).
    /// </summary>
    public static ServerOutcome? DeviceOffline(DateTimeOffset? lastSeen, TimeSpan? limit, DateTimeOffset now)
    {
        if (lastSeen is not { } seen || limit is not { } allowed || now - seen <= allowed)
        {
            return null;
        }
        return new(JobStatus.Failed, JobErrorCodes.DeviceOffline,
            $"The device has not been heard of for {Describe(now - seen)} (its policy allows {Describe(allowed)}); " +
            "switch it on and check that its agent runs, then re-run the job. If the device comes back first, its agent reports what it did.");
    }

    /// <summary>
    /// A device's last sign of life as the server can vouch for it: never earlier than <paramref name="watchingSince"/>,
    /// when the engine began watching without a break (its start, or the store's return after an outage). Time the
    /// servers or the store were away is not the device's silence: a weekend with every server stopped must not fail
    /// every job as device offline at the first tick. Never seen stays never seen.
    /// </summary>
    public static DateTimeOffset? LastSignOfLife(DateTimeOffset? lastSeen, DateTimeOffset? watchingSince) =>
        lastSeen is { } seen && watchingSince is { } since && seen < since ? since : lastSeen;

    /// <summary>A duration as people say it: "3 days 4 hours", "5 hours 2 minutes", "40 minutes".</summary>
    public static string Describe(TimeSpan span)
    {
        static string Part(int n, string unit) => $"{n} {unit}{(n == 1 ? "" : "s")}";
        return span switch
        {
            { TotalDays: >= 1 } => span.Hours == 0 ? Part((int)span.TotalDays, "day") : $"{Part((int)span.TotalDays, "day")} {Part(span.Hours, "hour")}",
            { TotalHours: >= 1 } => span.Minutes == 0 ? Part(span.Hours, "hour") : $"{Part(span.Hours, "hour")} {Part(span.Minutes, "minute")}",
            _ => Part(Math.Max(0, (int)span.TotalMinutes), "minute"),
        };
    }
}
