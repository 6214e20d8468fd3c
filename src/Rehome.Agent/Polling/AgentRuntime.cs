using Rehome.Agent.Enrollment;
using Rehome.Agent.Jobs;
using Rehome.Agent.Journal;
using Rehome.Agent.Platform;
using Rehome.Agent.Uninstall;
using Rehome.Agent.Updates;
using Rehome.Protocol;

namespace Rehome.Agent.Polling;

/// <summary>
/// One agent's life: enroll once, then resume what the journal left unfinished, then long-poll for jobs and run
/// them, one at a time. Ends when the device restarts (or the agent crashes); a new runtime on the same state
/// folder takes over.
/// </summary>
public sealed class AgentRuntime(
    AgentOptions options, IDevicePlatform platform, IUserSession session, IStepFaults? faults, GatewayClient gateway, TimeProvider time, ILogger logger)
{
    public static string Version { get; } = typeof(AgentRuntime).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    private readonly AgentIdentityStore identities = new(options.StateFolder);

    private string JobsFolder => Path.Combine(options.StateFolder, "jobs");

    /// <summary>Called with each job assignment as the agent receives it, before its journal (the benchmarks measure pickup with it).</summary>
    public Action<JobAssignment>? JobStarted { get; set; }

    public AgentIdentity? Identity { get; private set; }

    /// <summary>The agent's own installation, through which it updates itself; null: this agent never updates.</summary>
    public IAgentInstallation? Installation { get; init; }

    /// <summary>The version the agent reports: the installed one.</summary>
    public string InstalledVersion => Installation?.InstalledVersion ?? Version;

    /// <summary>Called once the agent holds its identity, enrolled now or before (the Windows agent then deletes its configuration key).</summary>
    public Action? IdentityReady { get; set; }

    /// <summary>What removes the agent itself when the server tells it to uninstall (Windows: its service and files).</summary>
    public IAgentRemoval Removal { get; init; } = NoAgentRemoval.Instance;

    /// <summary>The agent removed itself as the server asked: whoever runs it stops (the run returned without a restart to wait for).</summary>
    public bool Uninstalled { get; private set; }

    public async Task RunAsync(CancellationToken ct)
    {
        if (AgentUninstaller.IsPending(options.StateFolder))
        {
            // An uninstall began before a restart or a crash: it ends before anything else (an update included).
            if (identities.Load() is { } known)
            {
                gateway.UseCredential(AgentIdentityStore.Unprotect(known.ProtectedCredential));
            }
            await UninstallAsync(ct);
            return;
        }
        var updater = Installation is null ? null : new AgentUpdater(options, Installation, gateway, time, logger);
        if (updater is not null)
        {
            await updater.StartingAsync(ct);
        }
        Identity = await EnsureEnrolledAsync(ct);
        IdentityReady?.Invoke();
        gateway.UseCredential(AgentIdentityStore.Unprotect(Identity.ProtectedCredential));
        await BindDeviceKeyAsync(ct);
        // The check-in: a new version that gets this far is confirmed (or the previous one, restored, reports the rollback).
        await CheckInAsync(ct);
        if (updater is not null)
        {
            await updater.CheckedInAsync(ct);
        }
        var runner = new JobRunner(platform, session, gateway, faults, Identity.EnrolledAs, time);
        await LiftOrphanedLockAsync(ct);
        var pollBackoff = new Backoff(AgentTimings.PollRetry.First, AgentTimings.PollRetry.Max);
        // The previous poll reached the server but its answer never came back (a timeout, a connection lost after the
        // request went): the server may have leased a job to it, which the next poll brings again; said so, the server
        // gives it a whole lease again (for a bounded time). A busy server's refusal or a connection never made cannot
        // have leased anything, and a new runtime (after a restart or a crash) starts without it, so a device that fails
        // before its first report still sees its lease lapse.
        var previousUnanswered = false;
        while (!ct.IsCancellationRequested)
        {
            // A job the journal left unfinished goes first: if its lease still holds, it simply goes on.
            foreach (var unfinished in JobJournal.Unfinished(JobsFolder))
            {
                await ResumeAsync(runner, unfinished, ct);
            }
            if (updater is not null)
            {
                // Only at a safe point (no journal open); may end this runtime by handing over to the new version.
                await updater.CheckAsync(JobsFolder, ct);
            }
            JobAssignment? assignment;
            try
            {
                var answer = await gateway.PollForWorkAsync(options.PollSeconds, ct, previousUnanswered);
                previousUnanswered = false;
                pollBackoff.Reset();
                if (answer.Uninstall)
                {
                    var verdict = UninstallDecision.Decide([.. JobJournal.Unfinished(JobsFolder).Select(j => j.Record)], session.IsLocked);
                    if (verdict.SafeNow)
                    {
                        await UninstallAsync(ct);
                        return;
                    }
                    logger.LogInformation("Told to uninstall; waiting: {Reason}", verdict.WaitsFor);
                    await Task.Delay(TimeSpan.FromSeconds(options.PollSeconds), time, ct);
                    continue;
                }
                assignment = answer.Assignment;
            }
            catch (HttpRequestException e)
            {
                previousUnanswered = MayHaveBeenAnswered(e);
                // Jittered: a fleet that lost the server together must not come back in the same second.
                var wait = pollBackoff.Next((e as ServerBusyException)?.RetryAfter);
                logger.LogWarning("Poll failed ({Reason}); retrying in {Delay}", e.Message, wait);
                await Task.Delay(wait, time, ct);
                continue;
            }
            if (assignment is null)
            {
                continue;
            }
            JobStarted?.Invoke(assignment);
            var journal = JobJournal.Open(JobsFolder, assignment.JobId);
            if (journal is null)
            {
                journal = JobJournal.Create(JobsFolder, assignment, time.GetUtcNow());
            }
            else
            {
                // The server handed out again a job this device had begun (its lease lapsed meanwhile): go on
                // from the journal under the new lease.
                logger.LogInformation("Job {JobId} comes back (attempt {Attempt}); resuming from its journal", assignment.JobId, assignment.Attempt);
                journal.Update(r => r with
                {
                    Assignment = assignment,
                    Phase = r.Phase == JournalPhase.Closed ? JournalPhase.Running : r.Phase,
                    Completion = r.Completion is null ? null : r.Completion with { LeaseToken = assignment.LeaseToken },
                });
            }
            logger.LogInformation("Job {JobId}: {Kind} for {Device}", assignment.JobId, assignment.Kind, assignment.Mapping.SourceDevice);
            await runner.RunAsync(journal, ct);
        }
    }

    /// <summary>
    /// Whether a poll that failed so may still have been answered by the server: not when a busy server refused it or
    /// no connection was made (the request never reached it), otherwise (a timeout, a connection lost midway) it may.
    /// </summary>
    internal static bool MayHaveBeenAnswered(HttpRequestException e) =>
        e is not ServerBusyException
        && e.HttpRequestError is not (HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError
            or HttpRequestError.ProxyTunnelError);

    private async Task UninstallAsync(CancellationToken ct)
    {
        logger.LogWarning("The server told this agent to uninstall itself: removing its data, confirming, then removing the agent");
        await new AgentUninstaller(options.StateFolder, Removal, gateway, time, logger).RunAsync(ct);
        Uninstalled = true;
    }

    /// <summary>
    /// Sign-in stays blocked only while a job that blocked it runs: a block no running job holds (the agent crashed
    /// between locking and journaling, say) is lifted at start, so a crash never leaves users locked out.
    /// </summary>
    private async Task LiftOrphanedLockAsync(CancellationToken ct)
    {
        if (session.IsLocked && !JobJournal.Unfinished(JobsFolder).Any(j => j.Record.Phase == JournalPhase.Running))
        {
            logger.LogWarning("Sign-in was blocked with no job running; lifting the block");
            try
            {
                await session.UnlockAsync(ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A block record the agent did not write is not guessed at: an administrator lifts it (the break-glass
                // account signs in); the agent goes on serving jobs.
                logger.LogError(e, "The sign-in block could not be lifted; sign in with the break-glass or a local administrator account and check docs/windows.md");
            }
        }
    }

    /// <summary>
    /// Reports the device's facts; while a busy server keeps the check-in waiting, keeps the leases of the jobs the
    /// journal left unfinished. After a restart (a rejoin's) the check-in waits its turn behind a busy server's
    /// enrollments and reports, and the lease of the job that restarted the device lapsed meanwhile: 192 of the 199 jobs
    /// leased twice in a 10,000-device rehearsal were rejoins. A renewal goes in the share the server keeps for calls
    /// that keep a job, so it goes first. The keeping starts when a check-in fails for now, or when it has not been
    /// answered within the agent's own report pace: a check-in that waits in a busy server without a 503 can outlast
    /// the lease as well (83 rejoin leases lapsed in a later rehearsal in which no report was answered 503). A
    /// check-in answered at once renews nothing before it, and one the server refuses for good ends this runtime as
    /// before, leaving the lease to lapse.
    /// </summary>
    private async Task CheckInAsync(CancellationToken ct)
    {
        using var checkedIn = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var keepingLock = new Lock();
        Task? keeping = null;
        void StartKeeping()
        {
            lock (keepingLock)
            {
                keeping ??= KeepHeldLeasesAsync(checkedIn.Token);
            }
        }
        try
        {
            var checkIn = RetryAsync(() => gateway.ReportFactsAsync(platform.ReadFacts(InstalledVersion), ct), ct, failed: StartKeeping);
            if (HeldLeasePace() is { } pace && await Task.WhenAny(checkIn, Task.Delay(pace, time, checkedIn.Token)) != checkIn)
            {
                StartKeeping();
            }
            await checkIn;
        }
        finally
        {
            await checkedIn.CancelAsync();
            Task? started;
            lock (keepingLock)
            {
                started = keeping;
            }
            if (started is not null)
            {
                // It never fails (a failure is logged there); the check-in's own exception, if any, is what goes on.
                await started.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>The agent's own report pace for the jobs its journal left running (null when none): how long a check-in may take before their leases are kept.</summary>
    private TimeSpan? HeldLeasePace()
    {
        try
        {
            var held = JobJournal.Unfinished(JobsFolder).Select(j => j.Record.Assignment.LeaseSeconds).ToList();
            return held.Count == 0 ? null : TimeSpan.FromSeconds(Math.Clamp(held.Min() / 4.0, 0.5, AgentProtocol.OwnReportSeconds));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The journal could not be read: the resume reads it again and says what is wrong.
            return null;
        }
    }

    /// <summary>
    /// Renews the lease of every unfinished job in the journal, now and then at the pace the server asks, until
    /// <paramref name="until"/> is cancelled. A lease found lost (or a renewal refused) is left alone:
    /// <see cref="ResumeAsync"/> decides what follows, as it does for any lease after a restart.
    /// </summary>
    private async Task KeepHeldLeasesAsync(CancellationToken until)
    {
        try
        {
            var held = JobJournal.Unfinished(JobsFolder).ToList();
            while (held.Count > 0)
            {
                // The slowest pace the server asked, or the agent's own after a renewal that failed (as the runner's reports).
                var asked = TimeSpan.Zero;
                var own = TimeSpan.MaxValue;
                var failed = false;
                foreach (var journal in held.ToList())
                {
                    var record = journal.Record;
                    own = TimeSpan.FromSeconds(Math.Min(own.TotalSeconds, Math.Clamp(record.Assignment.LeaseSeconds / 4.0, 0.5, AgentProtocol.OwnReportSeconds)));
                    try
                    {
                        var answer = await gateway.ReportProgressAsync(journal.JobId, new ProgressReport
                        {
                            LeaseToken = record.Completion?.LeaseToken ?? record.Assignment.LeaseToken,
                            Step = record.RunningStep ?? (record.Phase == JournalPhase.Completing ? "Completing" : "Resuming"),
                            Message = "The agent restarted; it checks in, then resumes from its journal.",
                        }, until);
                        var seconds = Math.Min(answer?.ReportSeconds ?? 0, JobRunner.SlowestPace.TotalSeconds);
                        asked = TimeSpan.FromSeconds(Math.Max(asked.TotalSeconds, seconds));
                    }
                    catch (HttpRequestException e)
                    {
                        logger.LogDebug("Job {JobId}: the lease could not be renewed before the check-in ({Reason})", journal.JobId, e.Message);
                        failed = true;
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        // Lost, refused, or an answer that cannot be read: the resume decides what follows.
                        logger.LogInformation("Job {JobId}: the lease is no longer renewed before the check-in ({Reason})", journal.JobId, e.Message);
                        held.Remove(journal);
                    }
                }
                if (held.Count > 0)
                {
                    await Task.Delay(failed || asked == TimeSpan.Zero ? own : asked, time, until);
                }
            }
        }
        catch (OperationCanceledException) when (until.IsCancellationRequested)
        {
            // Checked in: the resume renews from here on.
        }
        catch (Exception e)
        {
            // The journal could not be read, say: the resume reads it again and says what is wrong.
            logger.LogWarning("The leases of unfinished jobs are not kept while the agent checks in: {Reason}", e.Message);
        }
    }

    private async Task ResumeAsync(JobRunner runner, JobJournal journal, CancellationToken ct)
    {
        var record = journal.Record;
        if (record.Phase == JournalPhase.Running)
        {
            try
            {
                // Does the lease still hold? Renewing tells, and keeps it.
                await gateway.ReportProgressAsync(journal.JobId, new ProgressReport
                {
                    LeaseToken = record.Assignment.LeaseToken,
                    Step = record.RunningStep ?? "Resuming",
                    Message = "The agent restarted; resuming from its journal.",
                }, ct);
            }
            catch (LeaseLostException) when (JobRunner.MustGoOnAlone(journal))
            {
                // The device left its source: it goes on to its destination (or back to its source) whatever the
                // server thinks, and reports the end when the server hands the job back.
                logger.LogWarning("Job {JobId}: the lease was lost after the device left its source; going on to a safe end", journal.JobId);
            }
            catch (LeaseLostException) when (JobRunner.WaitsForItsLease(journal))
            {
                // Safe in its destination: the rest of the job waits for the poll to bring it back (the journal stays).
                return;
            }
            catch (LeaseLostException)
            {
                // The job went back to its queue: the poll brings it back and it resumes from here (or the
                // server gave up on it, and the journal stays only for its undo data).
                journal.Update(r => r with { Phase = JournalPhase.Closed });
                return;
            }
            catch (HttpRequestException)
            {
                // Offline: go on locally; the runner's reports will reach the server once it is back.
            }
        }
        logger.LogInformation("Resuming job {JobId} ({Phase}) from its journal", journal.JobId, record.Phase);
        await runner.RunAsync(journal, ct);
    }

    private async Task<AgentIdentity> EnsureEnrolledAsync(CancellationToken ct)
    {
        if (identities.Load() is { } known)
        {
            return known;
        }
        if (string.IsNullOrWhiteSpace(options.ConfigurationKey))
        {
            throw new InvalidOperationException("The agent is not enrolled and has no configuration key (Rehome:Agent:ConfigurationKey).");
        }
        var facts = platform.ReadFacts(InstalledVersion);
        while (true)
        {
            // Signed again on every attempt: the server takes a proof only once and only while it is fresh.
            EnrollResponse answer;
            try
            {
                answer = await RetryAsync(() => gateway.EnrollAsync(DeviceProofs.Enrollment(options.ConfigurationKey, facts, platform.Identity, time.GetUtcNow()), ct), ct);
            }
            catch (GatewayRejectedException e) when (e.Status == System.Net.HttpStatusCode.Forbidden)
            {
                logger.LogError("The enrollment was refused by an administrator ({Reason}); asking again in {Seconds} s", e.Message, options.ApprovalRetrySeconds);
                await Task.Delay(TimeSpan.FromSeconds(options.ApprovalRetrySeconds), time, ct);
                continue;
            }
            if (answer.AwaitingApproval || answer.Credential is null)
            {
                // The device already has an agent with another key (or none bound yet): an administrator decides.
                logger.LogWarning("The enrollment waits for an administrator's approval (agent {AgentId} in the console's Agents page); asking again in {Seconds} s",
                    answer.AgentId, options.ApprovalRetrySeconds);
                await Task.Delay(TimeSpan.FromSeconds(options.ApprovalRetrySeconds), time, ct);
                continue;
            }
            var identity = new AgentIdentity
            {
                AgentId = answer.AgentId,
                ServerUrl = options.ServerUrl ?? gateway.Http.BaseAddress?.ToString() ?? "",
                ProtectedCredential = AgentIdentityStore.Protect(answer.Credential),
                EnrolledAs = facts,
                DeviceKeyBound = true,
            };
            identities.Save(identity);
            logger.LogInformation("Enrolled as agent {AgentId}", answer.AgentId);
            return identity;
        }
    }

    /// <summary>An agent enrolled before device keys binds its device key once, so a later enrollment for its device must prove it.</summary>
    private async Task BindDeviceKeyAsync(CancellationToken ct)
    {
        if (Identity is not { DeviceKeyBound: false } known)
        {
            return;
        }
        try
        {
            await RetryAsync(() => gateway.BindIdentityAsync(DeviceProofs.Binding(known.AgentId, platform.Identity, time.GetUtcNow()), ct), ct);
            Identity = known with { DeviceKeyBound = true };
            identities.Save(Identity);
            logger.LogInformation("Bound the device key to agent {AgentId}", known.AgentId);
        }
        catch (GatewayRejectedException e)
        {
            // Bound to another key already (or the server is older): the agent still works; the next start tries again.
            logger.LogWarning("The device key could not be bound to agent {AgentId}: {Reason}", known.AgentId, e.Message);
        }
    }

    /// <summary>Calls until the server answers (<see cref="AgentTimings.StartupRetry"/>); <paramref name="failed"/> after each failure.</summary>
    private Task<T> RetryAsync<T>(Func<Task<T>> call, CancellationToken ct, Action? failed = null) =>
        NetworkRetry.UntilAnsweredAsync(_ => call(), time, AgentTimings.StartupRetry, (e, delay) =>
        {
            logger.LogWarning("Server unreachable ({Reason}); retrying in {Delay}", e.Message, delay);
            failed?.Invoke();
        }, ct);

    private Task RetryAsync(Func<Task> call, CancellationToken ct, Action? failed = null) => RetryAsync(async () =>
    {
        await call();
        return true;
    }, ct, failed);
}
