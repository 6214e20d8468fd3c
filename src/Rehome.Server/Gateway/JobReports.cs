using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Rehome.Core.Runs;
using Rehome.Protocol;
using Rehome.Server.Administration;
using Rehome.Server.Runs;
using Rehome.Server.Store;

namespace Rehome.Server.Gateway;

/// <summary>
/// What an agent reports about a job it holds: progress (which renews the lease), log lines and the end. Every
/// report must come from the agent holding the job's lease, with its current token; otherwise it changes nothing
/// and the answer is <see cref="LeaseLost"/>.
/// </summary>
public sealed class JobReports(RehomeDbContext db, JobTransitions transitions, ReportPace pace, SqlDialect dialect, TimeProvider time)
{
    public async Task<Outcome<ProgressAnswer>> ProgressAsync(Guid jobId, Guid agentId, ProgressReport? report, CancellationToken ct)
    {
        if (report is null)
        {
            return Failure.Validation("body", "Required", "A progress report is required.");
        }
        if (AgentMessageRules.Check(report) is { Any: true } violations)
        {
            return Failure.Validation(violations.Items);
        }
        // The pace read once: the lease this renewal grants covers four of the waits its answer asks for.
        var interval = pace.Interval;
        var renewal = await transitions.RenewAsync(jobId, agentId, report.LeaseToken, pace.LeaseFor(interval),
            new JobProgress(report.ItemsDone, report.ItemsTotal, report.ItemsChanged, report.ItemsFailed, report.Step, report.Message, AreasOf(report.Areas)), ct);
        if (renewal == LeaseRenewal.Lost)
        {
            return LeaseLost(jobId);
        }
        if (report.LogLines is { Count: > 0 } lines)
        {
            // Renewed just now under the report's token: the lease holder's lines. Before the items: lines stored twice
            // are stored once, so a failure here (the agent sends the report again) must come before the items, which
            // would be stored twice.
            await InsertLinesAsync(jobId, report.LogSequence, lines, ct);
        }
        if (report.Items is { Count: > 0 })
        {
            var now = time.GetUtcNow();
            db.JobItems.AddRange(report.Items.Select(i => new JobItem { JobId = jobId, Item = i.Item, Outcome = i.Outcome.ToString(), Error = i.Error, At = now }));
            await db.SaveChangesRegardlessAsync();
        }
        return new ProgressAnswer(renewal == LeaseRenewal.StopRequested, interval is { } wait ? (int)wait.TotalSeconds : null,
            report.LogLines is { Count: > 0 and var taken } ? taken : null);
    }

    private sealed record LeaseOf(Guid? Owner, Guid? Token, JobStatus Status);

    // Compiled once: every log chunk of every job asks it (the expression and EF's cache lookup cost more than the query).
    private static readonly CompiledPerModel<Func<RehomeDbContext, Guid, Guid, CancellationToken, Task<LeaseOf?>>> LeaseOfQuery = new(() => EF.CompileAsyncQuery(
        (RehomeDbContext db, Guid jobId, Guid agentId, CancellationToken ct) =>
            db.StoredJobs.AsNoTracking().Where(j => j.Id == jobId && j.AgentId == agentId).Select(j => new LeaseOf(j.LeaseOwner, j.LeaseToken, j.Status)).FirstOrDefault()));

    public async Task<Outcome<bool>> LogAsync(Guid jobId, Guid agentId, LogChunk? chunk, CancellationToken ct)
    {
        if (chunk is null)
        {
            return Failure.Validation("body", "Required", "A log chunk is required.");
        }
        if (AgentMessageRules.Check(chunk) is { Any: true } violations)
        {
            return Failure.Validation(violations.Items);
        }
        if (await LeaseOfQuery.For(db)(db, jobId, agentId, ct) is not { } job)
        {
            return Failure.NotFound($"Job {jobId} of this agent");
        }
        if (job.Owner != agentId || job.Token != chunk.LeaseToken || job.Status != JobStatus.InProgress)
        {
            // Only the lease holder writes about a job, its log too; a lapsed lease's token no longer does, even from the same agent.
            return LeaseLost(jobId);
        }
        await InsertLinesAsync(jobId, chunk.Sequence, chunk.Lines, ct);
        return true;
    }

    /// <summary>
    /// Stores log lines from line <paramref name="sequence"/> on. Lines sent again because an answer was lost (or raced
    /// in twice) are stored once: the unique index (job, sequence, line) turns the repeat into nothing. One statement
    /// for them all: a round trip a line cost the server most of its time per log upload with thousands of agents.
    /// </summary>
    private async Task InsertLinesAsync(Guid jobId, long sequence, IReadOnlyList<LogLine> lines, CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var connection = db.Database.GetDbConnection();
        await using var command = connection.CreateCommand();
        command.Transaction = transaction.GetDbTransaction();
        var values = new System.Text.StringBuilder();
        dialect.Add(command, "@job", jobId);
        dialect.Add(command, "@sequence", sequence);
        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            values.Append(i == 0 ? "" : ", ").Append(System.Globalization.CultureInfo.InvariantCulture, $"(@job, @sequence, {i}, @at{i}, @level{i}, @text{i})");
            dialect.Add(command, $"@at{i}", dialect.Time(line.At));
            dialect.Add(command, $"@level{i}", line.Level);
            dialect.Add(command, $"@text{i}", line.Text);
        }
        command.CommandText = $"""
            INSERT INTO job_log_lines (job_id, sequence, line_number, at, level, text) VALUES {values}
            ON CONFLICT (job_id, sequence, line_number) DO NOTHING
            """;
        await command.ExecuteNonQueryAsync(ct);
        await transaction.CommitRegardlessAsync();
    }

    public async Task<Outcome<bool>> CompleteAsync(Guid jobId, Guid agentId, CompletionReport? report, CancellationToken ct)
    {
        if (report is null)
        {
            return Failure.Validation("body", "Required", "A completion report is required.");
        }
        if (AgentMessageRules.Check(report) is { Any: true } violations)
        {
            return Failure.Validation(violations.Items);
        }
        var status = report.Status switch
        {
            CompletionStatus.Finished => JobStatus.Finished,
            CompletionStatus.Exceptions => JobStatus.Exceptions,
            CompletionStatus.Stopped => JobStatus.Stopped,
            _ => JobStatus.Failed,
        };
        var completed = await transitions.CompleteAsync(jobId, agentId, report.LeaseToken, new JobCompletion(status,
            new JobProgress(report.ItemsDone, report.ItemsTotal, report.ItemsChanged, report.ItemsFailed, Areas: AreasOf(report.Areas)),
            report.ErrorCode, report.ErrorMessage), ct);
        return completed ? true : LeaseLost(jobId);
    }

    /// <summary>The answer to a write about a job this agent does not hold (409: stop working on it).</summary>
    public static Failure LeaseLost(Guid jobId) => Failure.Conflict("LeaseLost",
        $"This agent does not hold job {jobId} (its lease lapsed, it was taken over or stopped, or it is another agent's job); stop working on it.");

    /// <summary>The agent's area counts (checked by <see cref="AgentMessageRules"/>) as the job stores them.</summary>
    private static List<JobAreaCount>? AreasOf(IReadOnlyList<AreaCount>? areas) =>
        areas is { Count: > 0 } ? [.. areas.Select(a => new JobAreaCount(a.Area.ToString(), a.Seen, a.Changed, a.Failed, a.Problem))] : null;
}
