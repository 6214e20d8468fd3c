using Rehome.Agent.Journal;
using Rehome.Agent.Platform;
using Rehome.Agent.Polling;
using Rehome.Core.Validation;
using Rehome.Protocol;

namespace Rehome.Agent.Jobs;

/// <summary>How a run of the runner ended for the agent.</summary>
public enum JobOutcome
{
    /// <summary>The server has the job's completion.</summary>
    Completed,

    /// <summary>The lease was lost: the job stays in the journal and resumes if the server hands it out again.</summary>
    LeaseLost,
}

/// <summary>
/// Runs a job's steps from where its journal stands: journals each step before and after its effect, renews the
/// lease with live progress and the log, honours stop requests at step boundaries (never past a point of no
/// return), rolls completed steps back in reverse when a step fails, and reports the end.
/// </summary>
public sealed class JobRunner(IDevicePlatform platform, IUserSession session, GatewayClient gateway, IStepFaults? faults, DeviceFacts enrolledAs, TimeProvider time)
{
    /// <summary>Longest pause between two progress reports while a step runs.</summary>
    public static TimeSpan MaxReportInterval { get; set; } = AgentTimings.MaxReportInterval;

    /// <summary>Longest pause between two tries of a step after the point of no return.</summary>
    public static TimeSpan MaxRetryDelay { get; set; } = AgentTimings.MaxStepRetryDelay;

    /// <summary>First pause between two tries of a step after the point of no return (doubling up to <see cref="MaxRetryDelay"/>).</summary>
    public static TimeSpan FirstRetryDelay { get; set; } = AgentTimings.FirstStepRetryDelay;

    public async Task<JobOutcome> RunAsync(JobJournal journal, CancellationToken agentStopping)
    {
        var plan = JobPlans.For(journal.Record.Assignment, enrolledAs);
        var log = new JobLog(journal.PathOf("log.jsonl"), time);
        using var work = CancellationTokenSource.CreateLinkedTokenSource(agentStopping);
        var context = new JobContext(journal, log, platform, session, gateway, time, work.Token) { Faults = faults };
        var state = new RunState(plan.Steps, journal, agentStopping);
        if (journal.Record.Phase == JournalPhase.Running)
        {
            // A power request, not a thread's execution state: it holds while the job runs, whichever thread works.
            using var awake = plan.KeepsDeviceAwake ? platform.Power.KeepAwake($"Rehome: {journal.Record.Assignment.Kind}") : null;
            using var reporting = CancellationTokenSource.CreateLinkedTokenSource(agentStopping);
            var reporter = ReportLoopAsync(context, state, work, reporting.Token);
            CompletionReport completion;
            try
            {
                completion = await RunStepsAsync(context, state, plan);
            }
            catch (OperationCanceledException) when (state.LeaseLost && !agentStopping.IsCancellationRequested)
            {
                log.Warning("The server took the job back (lease lost); it resumes here if it comes back.");
                return JobOutcome.LeaseLost;
            }
            finally
            {
                await reporting.CancelAsync();
                await reporter;
            }
            if (state.LeaseLost && !state.LeftSource)
            {
                return JobOutcome.LeaseLost;
            }
            journal.Update(r => r with { Phase = JournalPhase.Completing, Completion = completion, RunningStep = null });
        }
        return await CompleteAsync(context, agentStopping);
    }

    private async Task<CompletionReport> RunStepsAsync(JobContext context, RunState state, JobPlan plan)
    {
        var journal = context.Journal;
        var steps = state.Steps;
        if (journal.Record.Returning)
        {
            return await ReturnToSourceAsync(context, state, plan);
        }
        if (journal.Record.Failure is { } earlier)
        {
            return await RollBackAsync(context, state, earlier);
        }
        var i = journal.Record.NextStep;
        try
        {
            for (; i < steps.Count; i++)
            {
                var step = steps[i];
                state.Current = i;
                if (state.LeaseLost && state.SafeEndReached)
                {
                    // The device is safe in its destination: the rest waits until the server hands the job back.
                    throw new OperationCanceledException("The lease was lost after the device reached a safe end.");
                }
                if (state.StopRequested && !state.PastPointOfNoReturn(i))
                {
                    return await StopAsync(context, state, i);
                }
                var afterLeaving = state.PastPointOfNoReturn(i);
                var failure = afterLeaving
                    ? await RunWithRetriesAsync(context, state, step, i, steps.Count, step.Attempts)
                    : await RunOnceAsync(context, state, step, i, steps.Count, catchFailure: false);
                if (failure is not null && step.WhenFailedAfterLeaving == AfterLeavingFailure.CarryOn)
                {
                    // The device is where it should be: the failure is the job's exception, not a reason to move it.
                    context.Log.Error($"{failure.Step} failed: {failure.Message} The device stays where it is; the job goes on.");
                    context.ReportFailure(new ItemResult(failure.Step, ItemOutcome.Failed, failure.Message));
                }
                else if (failure is not null)
                {
                    context.Log.Error($"{failure.Step} failed after the device left its source: {failure.Message} It goes back to its source through its return ticket.");
                    journal.Update(r => r with { Failure = failure, Returning = true, ReturnNextStep = 0, RunningStep = null });
                    return await ReturnToSourceAsync(context, state, plan);
                }
                var next = i + 1;
                journal.Update(r => r with { NextStep = next, RunningStep = null });
            }
        }
        catch (OperationCanceledException) when (state.StopRequested && !state.LeaseLost && !state.PastPointOfNoReturn(i) && !state.AgentStopping.IsCancellationRequested)
        {
            return await StopAsync(context, state, i);
        }
        catch (LeaseLostException) when (!state.PastPointOfNoReturn(i) || state.SafeEndReached)
        {
            // A step's own call learned it first: the job is no longer ours, so neither a failure nor a rollback
            // (the journal keeps the step, and the job resumes here if the server hands it back).
            state.LeaseLost = true;
            throw new OperationCanceledException("The lease was lost.");
        }
        catch (Exception e) when (e is not AgentTerminatedException and not OperationCanceledException)
        {
            var failure = new StepFailure(steps[i].Name, e is StepFailedException f ? f.Code : "StepFailed", e.Message);
            if (state.PastPointOfNoReturn(i))
            {
                // The step crossed the point of no return before it failed (the return ticket came, and with it the
                // source account's new password): going back is the only safe end.
                context.Log.Error($"{failure.Step} failed after the point of no return: {failure.Message} The device goes back to its source.");
                journal.Update(r => r with { Failure = failure, Returning = true, ReturnNextStep = 0, RunningStep = null });
                return await ReturnToSourceAsync(context, state, plan);
            }
            context.Log.Error($"{failure.Step} failed: {failure.Message}");
            journal.Update(r => r with { Failure = failure });
            return await RollBackAsync(context, state, failure);
        }
        context.Step = "Done";
        return Finished(context);
    }

    /// <summary>
    /// Finished, or Exceptions when items failed or a Re-ACL area was not done (the device cannot do it, or it
    /// failed as a whole): an area left out is never a silent success.
    /// </summary>
    private static CompletionReport Finished(JobContext context)
    {
        var areasNotDone = context.AreaCounts.Where(a => a.Problem is not null).Select(a => a.Area.ToString()).ToList();
        if (context.ItemsFailed == 0 && areasNotDone.Count == 0)
        {
            context.Log.Information("Job finished.");
            return Completion(context, CompletionStatus.Finished, null, null);
        }
        var items = context.ItemsFailed > 0 ? $"{context.ItemsFailed} item(s) could not be changed. " : "";
        var areas = areasNotDone.Count > 0 ? $"Not done: {string.Join(", ", areasNotDone)}. " : "";
        context.Log.Information($"Job finished with exceptions: {items}{areas}".TrimEnd());
        return Completion(context, CompletionStatus.Exceptions, context.ItemsFailed > 0 ? "ItemErrors" : "AreasNotDone", $"{items}{areas}See the mapping's report.");
    }

    /// <summary>
    /// Runs one step (checking first, when it was interrupted, whether its effect already happened). With
    /// <paramref name="catchFailure"/>, a failure comes back as data instead of an exception.
    /// </summary>
    private async Task<StepFailure?> RunOnceAsync(JobContext context, RunState state, JobStep step, int index, int count, bool catchFailure, string prefix = "")
    {
        var journal = context.Journal;
        var resumed = journal.Record.RunningStep == step.Name;
        journal.Update(r => r with { RunningStep = step.Name });
        context.Step = prefix + step.Name;
        context.Message = null;
        context.Log.Information($"{prefix}Step {index + 1} of {count}: {step.Name}{(resumed ? " (resumed after a restart)" : "")}");
        state.Nudge();
        try
        {
            if (resumed && await step.IsAlreadyDoneAsync(context))
            {
                context.Log.Information($"{step.Name} had already taken effect before the restart.");
                return null;
            }
            if (faults is not null)
            {
                await faults.AtStepAsync(step.Name, afterEffect: false, context.Cancellation);
            }
            await step.RunAsync(context);
            if (faults is not null)
            {
                await faults.AtStepAsync(step.Name, afterEffect: true, context.Cancellation);
            }
            return null;
        }
        catch (Exception e) when (catchFailure && e is not AgentTerminatedException and not OperationCanceledException
            && !(e is LeaseLostException && state.SafeEndReached))
        {
            // Past the point of no return a lost lease is one more failure to retry: the device must still reach a safe end.
            return new StepFailure(step.Name, e is StepFailedException f ? f.Code : e is LeaseLostException ? "LeaseLost" : "StepFailed", e.Message);
        }
    }

    /// <summary>Tries a step up to <paramref name="attempts"/> times (0: until it succeeds), waiting longer each time; the last failure comes back.</summary>
    private async Task<StepFailure?> RunWithRetriesAsync(JobContext context, RunState state, JobStep step, int index, int count, int attempts, string prefix = "")
    {
        var delay = FirstRetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            var failure = await RunOnceAsync(context, state, step, index, count, catchFailure: true, prefix);
            if (failure is null || (attempts > 0 && attempt >= attempts))
            {
                return failure;
            }
            var next = time.GetUtcNow() + delay;
            context.Log.Warning($"{step.Name} failed (attempt {attempt}): {failure.Message} Trying again at {next:HH:mm:ss} UTC.");
            context.Message = $"{step.Name} failed ({failure.Message}); trying again at {next:HH:mm:ss} UTC";
            // The step is tried afresh: the journal's "running" mark would make the next try look like a resume.
            context.Journal.Update(r => r with { RunningStep = null });
            await Task.Delay(delay, time, context.Cancellation);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
        }
    }

    /// <summary>How many times the way back is tried from its start (a fresh ticket each time) before the job asks for an administrator.</summary>
    public const int MaxReturnCycles = 3;

    private const string ReturnCyclesKey = "return.cycles";

    /// <summary>
    /// The way back after the point of no return: the plan's return steps, journaled like the others so a restart
    /// or a crash resumes them. A step that keeps failing sends the way back to its start (a fresh return ticket);
    /// after <see cref="MaxReturnCycles"/> the sign-in block is lifted, the break-glass account stays, and the job ends
    /// asking for an administrator: never a device nobody can sign in to, never a loop without end.
    /// </summary>
    private async Task<CompletionReport> ReturnToSourceAsync(JobContext context, RunState state, JobPlan plan)
    {
        var journal = context.Journal;
        var failure = journal.Record.Failure!;
        var steps = plan.ReturnSteps;
        state.Returning = true;
        var cycles = int.TryParse(journal.Get(ReturnCyclesKey), System.Globalization.CultureInfo.InvariantCulture, out var saved) ? saved : 0;
        for (var i = journal.Record.ReturnNextStep; i < steps.Count; i++)
        {
            var step = steps[i];
            state.Current = state.Steps.Count - 1;
            var problem = await RunWithRetriesAsync(context, state, step, i, steps.Count, step.Attempts, "Return: ");
            if (problem is not null && step.WhenFailedAfterLeaving == AfterLeavingFailure.CarryOn)
            {
                context.Log.Error($"{problem.Step} failed: {problem.Message}");
                context.ReportFailure(new ItemResult(problem.Step, ItemOutcome.Failed, problem.Message));
            }
            else if (problem is not null)
            {
                cycles++;
                journal.Set(ReturnCyclesKey, cycles.ToString(System.Globalization.CultureInfo.InvariantCulture));
                if (cycles >= MaxReturnCycles)
                {
                    return await GiveUpReturningAsync(context, failure, problem);
                }
                context.Log.Error($"Going back failed at {problem.Step}: {problem.Message} Starting the way back again with a fresh ticket ({cycles} of {MaxReturnCycles}).");
                journal.Update(r => r with { ReturnNextStep = 0, RunningStep = null });
                i = -1;
                continue;
            }
            var next = i + 1;
            journal.Update(r => r with { ReturnNextStep = next, RunningStep = null });
        }
        var previous = RejoinDomain.RecordMembershipStep.Previous(context);
        var where = $"{previous.DomainName ?? previous.TenantId} as {previous.ComputerName}";
        context.Log.Warning($"Back in the source, {where}, after the failure of {failure.Step}.");
        return Completion(context, CompletionStatus.Failed, failure.Code,
            $"{failure.Step} failed: {failure.Message} The device went back to its source, {where}, through its return ticket.");
    }

    /// <summary>Neither the destination nor the source could be reached: users are let in again and an administrator is asked for.</summary>
    private static async Task<CompletionReport> GiveUpReturningAsync(JobContext context, StepFailure failure, StepFailure problem)
    {
        try
        {
            await context.Session.UnlockAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is not AgentTerminatedException)
        {
            context.Log.Error($"The sign-in block could not be lifted: {e.Message}");
        }
        var account = context.Journal.Get(RejoinDomain.CreateBreakGlassStep.CreatedKey) is { Length: > 0 } name ? $" Sign in with the break-glass account {name}." : "";
        context.Log.Error($"The device could not go back to its source ({problem.Step}: {problem.Message}); it needs an administrator.{account}");
        return Completion(context, CompletionStatus.Failed, "NeedsAdministrator",
            $"{failure.Step} failed: {failure.Message} Going back to the source failed too ({problem.Step}: {problem.Message}); the device needs an administrator.{account}");
    }

    /// <summary>Undoes the steps that ran (the failed one too: its effect may be partial), newest first.</summary>
    private static async Task<CompletionReport> RollBackAsync(JobContext context, RunState state, StepFailure failure)
    {
        var journal = context.Journal;
        var last = Math.Min(journal.Record.NextStep, state.Steps.Count - 1);
        var undone = new List<string>(journal.Record.Undone);
        for (var j = last; j >= 0; j--)
        {
            var step = state.Steps[j];
            if (undone.Contains(step.Name))
            {
                continue;
            }
            context.Step = "Undo " + step.Name;
            try
            {
                await step.UndoAsync(context);
            }
            catch (Exception e) when (e is not AgentTerminatedException)
            {
                context.Log.Error($"Undoing {step.Name} failed: {e.Message}");
            }
            undone.Add(step.Name);
            journal.Update(r => r with { Undone = [.. undone] });
        }
        context.Log.Warning($"Rolled back after the failure of {failure.Step}: the device is as it was before the job.");
        return Completion(context, CompletionStatus.Failed, failure.Code, $"{failure.Step} failed: {failure.Message} The job's earlier steps were rolled back.");
    }

    private static async Task<CompletionReport> StopAsync(JobContext context, RunState state, int at)
    {
        for (var j = Math.Min(at, state.Steps.Count - 1); j >= 0; j--)
        {
            if (state.Steps[j].UndoOnStop && j < context.Journal.Record.NextStep + 1)
            {
                await state.Steps[j].UndoAsync(context);
            }
        }
        var where = at < state.Steps.Count ? state.Steps[at].Name : "the end";
        context.Log.Warning($"Stopped by the administrator before {where}.");
        return Completion(context, CompletionStatus.Stopped, "StoppedByAdministrator", $"Stopped on the device before {where}.");
    }

    private static CompletionReport Completion(JobContext context, CompletionStatus status, string? code, string? message) => new()
    {
        LeaseToken = context.Assignment.LeaseToken,
        Status = status,
        ItemsDone = context.ItemsDone,
        ItemsTotal = context.ItemsTotal,
        ItemsChanged = context.ItemsChanged,
        ItemsFailed = context.ItemsFailed,
        Areas = Outgoing(context.AreaCounts),
        ErrorCode = Outgoing(code, AgentProtocol.MaxStepLength, multiLine: false),
        ErrorMessage = Outgoing(message, AgentProtocol.MaxMessageLength),
    };

    /// <summary>
    /// Text as the server takes it: it refuses control characters and overlong text (400), and a refused report
    /// renews no lease, so what the device says is made to fit rather than lost with the job.
    /// </summary>
    private static string? Outgoing(string? text, int maxLength, bool multiLine = true) =>
        text is null ? null : TextRules.Fit(text, maxLength, multiLine);

    private static IReadOnlyList<AreaCount> Outgoing(IReadOnlyList<AreaCount> areas) =>
        [.. areas.Select(a => a with { Problem = Outgoing(a.Problem, AgentProtocol.MaxMessageLength) })];

    /// <summary>The longest wait between reports an agent accepts from a server's pace.</summary>
    public static readonly TimeSpan SlowestPace = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Renews the lease with progress, then uploads the log; hears stop requests. At the agent's own pace it reports at
    /// each step and every few seconds; when the server asks for a slower pace (many jobs running at once) it reports
    /// only at that interval, steps or not, and the server's lease covers four of them. A wait counts from when the
    /// report was sent (at least half the agent's own pace after its answer). A report that fails is tried
    /// again at the agent's own pace (a lease of four waits would not survive four failures a wait apart), and a full
    /// batch of item results is followed by the next at once, so that a busy Re-ACL never falls behind.
    /// </summary>
    private async Task ReportLoopAsync(JobContext context, RunState state, CancellationTokenSource work, CancellationToken ct)
    {
        var ownPace = TimeSpan.FromSeconds(Math.Clamp(context.Assignment.LeaseSeconds / 4.0, 0.5, MaxReportInterval.TotalSeconds));
        TimeSpan? serverPace = null;
        // Log lines ride on the reports unless the server refuses them there (another version's rules).
        var logWithReports = true;
        while (!ct.IsCancellationRequested)
        {
            // The pace counts from when a report is sent, not from when it and the log after it are done: a renewal
            // that waits 20 s for a busy store and a log chunk that waits 30 s more, then a full wait of 16 s, would
            // come 66 s after the last, past a lease of four 16 s waits.
            var sent = time.GetTimestamp();
            var renewed = false;
            var moreItems = false;
            try
            {
                var items = context.TakeItems(ProgressReport.MaxItems);
                var logged = context.Journal.Record.LogLinesUploaded;
                IReadOnlyList<LogLine> lines = [];
                try
                {
                    // Inside: a log that cannot be read now hands the items back like any failed report.
                    lines = logWithReports ? LinesForReport(context.Log.Read(logged, LogChunk.MaxLines)) : [];
                    var (answer, _) = await ReportWithLinesAsync(context, Progress(context, state.Current + 1, state.Steps.Count, items), logged, lines, ct);
                    serverPace = answer.ReportSeconds is > 0 and var seconds ? TimeSpan.FromSeconds(Math.Min(seconds, SlowestPace.TotalSeconds)) : null;
                    renewed = true;
                    moreItems = items.Count == ProgressReport.MaxItems;
                    if (answer.StopRequested && !state.StopRequested)
                    {
                        state.StopRequested = true;
                        if (!state.PastPointOfNoReturn(state.Current))
                        {
                            await work.CancelAsync();
                        }
                        else
                        {
                            context.Log.Warning("A stop was requested after the device left its source; the job finishes so the device is not stranded.");
                        }
                    }
                }
                catch (GatewayRejectedException e) when (lines.Count > 0 && e.NamesOnly("logLines"))
                {
                    // A server whose rules for log lines differ from this agent's (another version) refused them: the
                    // lines go apart from now on, where a refusal costs the log chunk and never the renewal.
                    LinesRefused(context, e);
                    logWithReports = false;
                    context.ReturnItems(items);
                    moreItems = true;
                }
                catch (GatewayRejectedException e) when (items.Count > 0 && e.NamesOnly("items"))
                {
                    // Items the server will not take are dropped, said so in the job's log, and the report goes again at
                    // once without them: handed back, they would ride on every later report, each refused with them,
                    // and the lease would lapse while the device works on. A refusal of anything else keeps them.
                    context.Log.Warning($"The server refused {items.Count} item result(s): {e.Message}");
                    moreItems = true;
                }
                catch
                {
                    context.ReturnItems(items);
                    throw;
                }
                // What the renewal did not carry (more lines than a report holds; an older server that ignores them)
                // goes apart, after it: a server too busy for the log (503 once its store lane is full) must not keep
                // the lease from being renewed, or the lease lapses while the device works on.
                await UploadLogAsync(context, ct);
            }
            catch (LeaseLostException)
            {
                state.LeaseLost = true;
                if (state.PastPointOfNoReturn(state.Current) && !state.SafeEndReached)
                {
                    // The device left its source: it goes on to a safe end whatever the server thinks, and reports then.
                    context.Log.Warning("The server took the job back after the device left its source; the device goes on to a safe end and reports when it can.");
                    return;
                }
                await work.CancelAsync();
                return;
            }
            catch (Exception e) when (FailedForNow(e, ct))
            {
                // Offline: the work goes on locally; the next report tries again (the lease may lapse meanwhile).
                serverPace = renewed ? serverPace : null;
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (GatewayRejectedException e)
            {
                // A report the server will not take (too long a message, say) must not stop the job.
                context.Log.Warning($"The server refused a progress report: {e.Message}");
                serverPace = renewed ? serverPace : null;
            }
            if (moreItems)
            {
                continue;
            }
            // At least half the agent's own pace after any answer: a server slow to answer is not asked again at once.
            var taken = time.GetElapsedTime(sent);
            var least = ownPace / 2;
            if (serverPace is { } paced)
            {
                await WaitAsync(paced - taken > least ? paced - taken : least, ct);
            }
            else
            {
                await state.WaitForNudgeAsync(ownPace - taken > least ? ownPace - taken : least, ct);
            }
        }
    }

    /// <summary>
    /// Whether a report (or its log chunk) failed for now, the loop going on: any network failure or busy answer, and a
    /// client timeout (a cancellation not the loop's). A 503 that comes as the steps end, just as the loop is told to
    /// stop, is one too: taken for the loop's own cancellation, it ended the agent (two agents of a 10,000-device
    /// rehearsal), and the restarted agent let the job's lease lapse.
    /// </summary>
    internal static bool FailedForNow(Exception e, CancellationToken ct) =>
        e is HttpRequestException || (e is TaskCanceledException && !ct.IsCancellationRequested);

    private async Task WaitAsync(TimeSpan wait, CancellationToken ct)
    {
        try
        {
            await Task.Delay(wait, time, ct);
        }
        catch (OperationCanceledException)
        {
            // The job ended.
        }
    }

    private static ProgressReport Progress(JobContext context, int stepNumber, int stepCount, List<ItemResult> items) => new()
    {
        LeaseToken = context.Assignment.LeaseToken,
        Step = context.Step.Length == 0 ? "Starting" : Outgoing(context.Step, AgentProtocol.MaxStepLength, multiLine: false)!,
        StepNumber = stepNumber,
        StepCount = stepCount,
        ItemsDone = context.ItemsDone,
        ItemsTotal = context.ItemsTotal,
        ItemsChanged = context.ItemsChanged,
        ItemsFailed = context.ItemsFailed,
        Message = Outgoing(context.Message, AgentProtocol.MaxMessageLength),
        Areas = Outgoing(context.AreaCounts),
        Items = [.. items.Select(i => i with
        {
            Item = Outgoing(i.Item, AgentProtocol.MaxItemLength, multiLine: false)!,
            Error = Outgoing(i.Error, AgentProtocol.MaxMessageLength),
        })],
    };

    /// <summary>
    /// Sends what the report loop had not sent when the steps ended, before the completion closes the job: the item
    /// results (the last step's, mostly: the loop stops with them, and a paced loop may not have reported for a minute)
    /// and the log's last lines, on progress reports. A report goes in the share the server keeps for calls that keep a
    /// job, and renews the lease; a log chunk apart waits in the general share, which a busy server answers 503, and
    /// completions retried behind it let leases lapse (151 Migrate permissions jobs leased twice at 10,000 devices).
    /// Lines the server does not take on a report (an older server, other rules) go apart, as items it refuses are
    /// dropped: every refusal gives something up, so this ends.
    /// </summary>
    private async Task SendPendingAsync(JobContext context, CancellationToken ct)
    {
        var logWithReports = true;
        while (true)
        {
            var items = context.TakeItems(ProgressReport.MaxItems);
            var logged = context.Journal.Record.LogLinesUploaded;
            IReadOnlyList<LogLine> lines = [];
            try
            {
                lines = logWithReports ? LinesForReport(context.Log.Read(logged, LogChunk.MaxLines)) : [];
                if (items.Count == 0 && lines.Count == 0)
                {
                    return;
                }
                var steps = context.Journal.Record.NextStep;
                var (_, taken) = await ReportWithLinesAsync(context, Progress(context, steps, steps, items), logged, lines, ct);
                // Lines the server did not take (an older server ignores them) go apart.
                logWithReports &= taken || lines.Count == 0;
            }
            catch (GatewayRejectedException e) when (lines.Count > 0 && e.NamesOnly("logLines"))
            {
                LinesRefused(context, e);
                logWithReports = false;
                context.ReturnItems(items);
            }
            catch (GatewayRejectedException e)
            {
                // Items the server will not take must not keep the job from being completed; nor must lines. A refusal
                // of the items alone drops them, and the lines go again on the next report.
                if (items.Count > 0)
                {
                    context.Log.Warning($"The server refused the last item results ({items.Count}): {e.Message}");
                }
                logWithReports &= lines.Count == 0 || (items.Count > 0 && e.NamesOnly("items"));
            }
            catch
            {
                context.ReturnItems(items);
                throw;
            }
        }
    }

    private async Task UploadLogAsync(JobContext context, CancellationToken ct)
    {
        while (true)
        {
            var uploaded = context.Journal.Record.LogLinesUploaded;
            var lines = context.Log.Read(uploaded, LogChunk.MaxLines);
            if (lines.Count == 0)
            {
                return;
            }
            await gateway.UploadLogAsync(context.JobId, new LogChunk
            {
                LeaseToken = context.Assignment.LeaseToken,
                Sequence = uploaded,
                Lines = Outgoing(lines),
            }, ct);
            context.Journal.Update(r => r with { LogLinesUploaded = uploaded + lines.Count });
        }
    }

    private static List<LogLine> Outgoing(IReadOnlyList<LogLine> lines) =>
        [.. lines.Select(l => l with { Text = Outgoing(l.Text, AgentProtocol.MaxLogLineLength) ?? "" })];

    /// <summary>
    /// Sends <paramref name="report"/> with the log's <paramref name="lines"/> from line <paramref name="logged"/>, and
    /// counts them uploaded when the server says it stored them all. Returns the answer and whether it did.
    /// </summary>
    private async Task<(ProgressAnswer Answer, bool LinesTaken)> ReportWithLinesAsync(
        JobContext context, ProgressReport report, int logged, IReadOnlyList<LogLine> lines, CancellationToken ct)
    {
        var answer = await gateway.ReportProgressAsync(context.JobId, report with { LogSequence = logged, LogLines = lines }, ct);
        var taken = lines.Count > 0 && answer.LogLinesTaken == lines.Count;
        if (taken)
        {
            context.Journal.Update(r => r with { LogLinesUploaded = Math.Max(r.LogLinesUploaded, logged + lines.Count) });
        }
        return (answer, taken);
    }

    /// <summary>Says in the job's log that the server refused the lines sent with a report (another version's rules): they go apart.</summary>
    private static void LinesRefused(JobContext context, GatewayRejectedException e) =>
        context.Log.Warning($"The server refused the log lines sent with a report; they go apart: {e.Message}");

    /// <summary>The characters of log text a progress report carries at most; the rest of a backlog goes apart, so a renewal stays small.</summary>
    public const int MaxLogCharsWithReport = 64 * 1024;

    /// <summary>The first lines of <paramref name="lines"/> that fit in a report (<see cref="MaxLogCharsWithReport"/>), ready to send.</summary>
    private static List<LogLine> LinesForReport(IReadOnlyList<LogLine> lines)
    {
        var outgoing = Outgoing(lines);
        var (count, chars) = (0, 0);
        while (count < outgoing.Count && chars + outgoing[count].Text.Length <= MaxLogCharsWithReport)
        {
            chars += outgoing[count++].Text.Length;
        }
        return outgoing[..count];
    }

    /// <summary>Sends the log and the completion until the server has them (or says the job is no longer ours).</summary>
    private async Task<JobOutcome> CompleteAsync(JobContext context, CancellationToken ct)
    {
        try
        {
            await NetworkRetry.UntilAnsweredAsync(async token =>
            {
                await SendPendingAsync(context, token);
                await UploadLogAsync(context, token);
                await gateway.CompleteAsync(context.JobId, context.Journal.Record.Completion!, token);
                return true;
            }, time, AgentTimings.JobCallRetry, null, ct);
            context.Journal.Update(r => r with { Phase = JournalPhase.Closed });
            return JobOutcome.Completed;
        }
        catch (LeaseLostException)
        {
            // Completed before (the answer was lost), or the server moved on: either way, nothing left to tell.
            context.Journal.Update(r => r with { Phase = JournalPhase.Closed });
            return JobOutcome.LeaseLost;
        }
    }

    /// <summary>
    /// Whether the job's device left its source (or holds a return ticket) and has not reached a safe end yet: such
    /// a job goes on without its lease, since stopping there would strand the device.
    /// </summary>
    public static bool MustGoOnAlone(JobJournal journal)
    {
        var steps = JobPlans.For(journal.Record.Assignment, new DeviceFacts { DeviceName = "", OsVersion = "", AgentVersion = "" }).Steps;
        var state = new RunState(steps, journal, CancellationToken.None);
        return (state.LeftSource || steps.Any(s => s.PointOfNoReturn && s.Name == journal.Record.RunningStep)) && !state.SafeEndReached;
    }

    /// <summary>Whether the job reached a safe end after its device left its source (the rest waits for the server).</summary>
    public static bool WaitsForItsLease(JobJournal journal)
    {
        var steps = JobPlans.For(journal.Record.Assignment, new DeviceFacts { DeviceName = "", OsVersion = "", AgentVersion = "" }).Steps;
        return new RunState(steps, journal, CancellationToken.None).SafeEndReached;
    }

    private sealed class RunState(IReadOnlyList<JobStep> steps, JobJournal journal, CancellationToken agentStopping)
    {
        /// <summary>The agent's own stop (a shutdown), as opposed to an administrator's stop request.</summary>
        public CancellationToken AgentStopping { get; } = agentStopping;

        private volatile bool returning;

        public bool Returning { get => returning || journal.Record.Returning; set => returning = value; }

        /// <summary>Whether the device left its source (or holds a return ticket, which reset the source account).</summary>
        public bool LeftSource => Returning || journal.Get(RejoinDomain.ObtainReturnTicketStep.ReceivedKey) is not null
            || Steps.Take(journal.Record.NextStep).Any(s => s.PointOfNoReturn);

        private readonly SemaphoreSlim nudge = new(0, 1);

        public IReadOnlyList<JobStep> Steps { get; } = steps;

        private volatile bool stopRequested;
        private volatile bool leaseLost;
        private volatile int current;

        public bool StopRequested { get => stopRequested; set => stopRequested = value; }

        public bool LeaseLost { get => leaseLost; set => leaseLost = value; }

        public int Current { get => current; set => current = value; }

        /// <summary>A step marked <see cref="JobStep.SafeEnd"/> is done (and the device is not on its way back).</summary>
        public bool SafeEndReached => !Returning && Steps.Take(journal.Record.NextStep).Any(s => s.SafeEnd);

        public bool PastPointOfNoReturn(int current) => LeftSource || Steps.Take(current + 1).Any(s => s.PointOfNoReturn);

        public void Nudge()
        {
            if (nudge.CurrentCount == 0)
            {
                try
                {
                    nudge.Release();
                }
                catch (SemaphoreFullException)
                {
                    // Already nudged.
                }
            }
        }

        public async Task WaitForNudgeAsync(TimeSpan interval, CancellationToken ct)
        {
            try
            {
                await nudge.WaitAsync(interval, ct);
            }
            catch (OperationCanceledException)
            {
                // The job ended.
            }
        }
    }
}
