using Rehome.Protocol;

namespace Rehome.Agent.Journal;

/// <summary>Where a journaled job stands.</summary>
public enum JournalPhase
{
    /// <summary>Steps are running (or were, when the agent stopped).</summary>
    Running,

    /// <summary>The job ended on the device; the server has not acknowledged the completion yet.</summary>
    Completing,

    /// <summary>The server has the completion (or the job was taken away): nothing left to do.</summary>
    Closed,
}

/// <summary>The journal's content, saved whole and atomically after every change.</summary>
public sealed record JournalRecord
{
    public required JobAssignment Assignment { get; init; }

    public JournalPhase Phase { get; init; }

    /// <summary>Steps [0, NextStep) are done.</summary>
    public int NextStep { get; init; }

    /// <summary>The step that began and has not been confirmed: on resume it is checked (and run again if not done).</summary>
    public string? RunningStep { get; init; }

    /// <summary>Checkpoints and undo data of the steps, by key.</summary>
    public Dictionary<string, string> Data { get; init; } = [];

    /// <summary>Steps undone after a failure, in the order they were undone.</summary>
    public List<string> Undone { get; init; } = [];

    /// <summary>
    /// Why the job failed, once it did: before the point of no return the rollback then continues from
    /// <see cref="Undone"/> after a restart; after it, the device goes back to its source (<see cref="Returning"/>).
    /// </summary>
    public StepFailure? Failure { get; init; }

    /// <summary>The device is going back to its source through its return ticket (the plan's return steps).</summary>
    public bool Returning { get; init; }

    /// <summary>Return steps [0, ReturnNextStep) are done.</summary>
    public int ReturnNextStep { get; init; }

    public CompletionReport? Completion { get; init; }

    /// <summary>How many log lines the server has.</summary>
    public int LogLinesUploaded { get; init; }

    public DateTimeOffset StartedAt { get; init; }
}

public sealed record StepFailure(string Step, string Code, string Message);

/// <summary>
/// A job's on-device journal: written before each step's effect and after it, so that after a crash or a
/// restart the agent knows which step to check and where to go on. One folder per job, which also holds the
/// step's own files (the Re-ACL's undo journal and checkpoint, the log).
/// </summary>
public sealed class JobJournal
{
    private const string FileName = "journal.json";

    // The runner's steps and its progress reporter both write the journal.
    private readonly Lock gate = new();

    private JobJournal(string folder, JournalRecord record)
    {
        Folder = folder;
        Record = record;
    }

    public string Folder { get; }

    public JournalRecord Record { get; private set; }

    public Guid JobId => Record.Assignment.JobId;

    public static JobJournal Create(string jobsFolder, JobAssignment assignment, DateTimeOffset now)
    {
        var folder = Path.Combine(jobsFolder, assignment.JobId.ToString("N"));
        Directory.CreateDirectory(folder);
        var journal = new JobJournal(folder, new JournalRecord { Assignment = assignment, StartedAt = now });
        journal.Save();
        return journal;
    }

    /// <summary>The journal of a job this device worked on before, if any.</summary>
    public static JobJournal? Open(string jobsFolder, Guid jobId)
    {
        var folder = Path.Combine(jobsFolder, jobId.ToString("N"));
        return DurableFile.ReadJson<JournalRecord>(Path.Combine(folder, FileName)) is { } record ? new JobJournal(folder, record) : null;
    }

    /// <summary>The jobs not closed yet, oldest first.</summary>
    public static IReadOnlyList<JobJournal> Unfinished(string jobsFolder)
    {
        if (!Directory.Exists(jobsFolder))
        {
            return [];
        }
        return [.. Directory.EnumerateDirectories(jobsFolder)
            .Select(folder => DurableFile.ReadJson<JournalRecord>(Path.Combine(folder, FileName)) is { } record ? new JobJournal(folder, record) : null)
            .OfType<JobJournal>()
            .Where(j => j.Record.Phase != JournalPhase.Closed)
            .OrderBy(j => j.Record.StartedAt)];
    }

    public string? Get(string key) => Record.Data.TryGetValue(key, out var value) ? value : null;

    public void Set(string key, string value) => Update(r => r with { Data = new Dictionary<string, string>(r.Data) { [key] = value } });

    /// <summary>A file in the job's folder, for a step's own durable data.</summary>
    public string PathOf(string name) => Path.Combine(Folder, name);

    public void Update(Func<JournalRecord, JournalRecord> change)
    {
        lock (gate)
        {
            Record = change(Record);
            Save();
        }
    }

    private void Save() => DurableFile.WriteJson(Path.Combine(Folder, FileName), Record);
}
