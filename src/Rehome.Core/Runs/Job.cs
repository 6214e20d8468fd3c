namespace Rehome.Core.Runs;

/// <summary>One mapping × one job kind in a run: a row that agents lease, renew and complete.</summary>
public sealed class Job
{
    public Guid Id { get; set; }

    public Guid RunId { get; set; }

    public Guid ProjectId { get; set; }

    public Guid MappingId { get; set; }

    public JobKind Kind { get; set; }

    public JobStatus Status { get; set; }

    /// <summary>The server prepares the destination before the agent may start (offline join blob, computer account).</summary>
    public bool NeedsDestinationPreparation { get; set; }

    /// <summary>The rejoin job of the same run this job waits for.</summary>
    public Guid? PrerequisiteJobId { get; set; }

    public int Attempts { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public int ItemsDone { get; set; }

    public int ItemsTotal { get; set; }

    public int ItemsChanged { get; set; }

    public int ItemsFailed { get; set; }

    public string? ErrorCode { get; set; }

    public string? ErrorMessage { get; set; }

    /// <summary>An administrator asked a running job to stop; the agent is told on its next lease renewal.</summary>
    public bool StopRequested { get; set; }

    /// <summary>The agent holding the job's lease.</summary>
    public Guid? LeaseOwner { get; set; }

    /// <summary>A token that every write of the lease holder must present, so a holder that lost the lease changes nothing.</summary>
    public Guid? LeaseToken { get; set; }

    public DateTimeOffset? LeaseExpiresAt { get; set; }

    /// <summary>The agent that leased the job last (kept after the lease ends, so its log can still arrive).</summary>
    public Guid? AgentId { get; set; }

    /// <summary>The version that agent ran when it leased the job (agents update only between jobs, so the job ran on it).</summary>
    public string? AgentVersion { get; set; }

    /// <summary>The step the agent reported last, and its message.</summary>
    public string? Step { get; set; }

    public string? Message { get; set; }

    /// <summary>What the server prepared in the destination for this job (offline join data), encrypted.</summary>
    public string? DestinationPayloadProtected { get; set; }

    /// <summary>A preview (permissions and profile): the agent counts what would change and changes nothing.</summary>
    public bool DryRun { get; set; }

    /// <summary>The finished job of the same kind and mapping that this job reverts on the device.</summary>
    public Guid? RevertOf { get; set; }

    /// <summary>The latest job asked to revert this one (it may still run, or have failed).</summary>
    public Guid? RevertedBy { get; set; }

    /// <summary>The agent's latest per-area counts (permissions and profile jobs); null until it reports some.</summary>
    public List<JobAreaCount>? Areas { get; set; }

    /// <summary>
    /// The first failure to reach a directory for this job in its current retry window; null while the directory
    /// answers. Kept on the row so that every replica, and a restarted server, continues the same window.
    /// </summary>
    public DateTimeOffset? DirectoryFailingSince { get; set; }

    /// <summary>The directory is not asked again for this job before this time.</summary>
    public DateTimeOffset? DirectoryNextTry { get; set; }

    /// <summary>The back-off last waited, doubled at the next failure.</summary>
    public TimeSpan? DirectoryRetryDelay { get; set; }

    /// <summary>
    /// The Autopilot import still processing for this job (Microsoft Graph's id) and the serial number it imports,
    /// so that the agent's next ask, on any replica, reads the same import instead of starting another.
    /// </summary>
    public string? AutopilotImportId { get; set; }

    /// <inheritdoc cref="AutopilotImportId"/>
    public string? AutopilotImportSerial { get; set; }
}
