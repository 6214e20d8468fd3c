using Rehome.Core.Runs;

namespace Rehome.Core.Mappings;

/// <summary>
/// One source device and where it goes. The last job's kind, status and progress are kept here too, so that
/// the mappings grid filters and sorts 100,000 rows without joining the job history.
/// </summary>
public sealed class Mapping
{
    public Guid Id { get; set; }

    public Guid ProjectId { get; set; }

    /// <summary>The device's name in the source, as the administrator wrote it.</summary>
    public required string SourceDevice { get; set; }

    /// <summary>The upper-case form of <see cref="SourceDevice"/>: unique across all projects.</summary>
    public required string SourceDeviceKey { get; set; }

    public required string DestinationName { get; set; }

    public string? DestinationOu { get; set; }

    public string? PrimaryUser { get; set; }

    public string? DestinationUser { get; set; }

    /// <summary>The enrolled agent on this device, once it has enrolled.</summary>
    public Guid? AgentId { get; set; }

    /// <summary>The job kind of the mapping's latest job (its stage), if any.</summary>
    public JobKind? Stage { get; set; }

    public JobStatus? Status { get; set; }

    public Guid? LastJobId { get; set; }

    public Guid? LastRunId { get; set; }

    public int ItemsDone { get; set; }

    public int ItemsTotal { get; set; }

    /// <summary>When a Rejoin domain job of this mapping last finished: the prerequisite of permissions and profile.</summary>
    public DateTimeOffset? RejoinedAt { get; set; }

    /// <summary>The outcome of the mapping's last readiness check; null until one ran.</summary>
    public ReadinessState? Readiness { get; set; }

    /// <summary>The checks of that readiness check that did not pass, one a line (<c>Agent (Warning): …</c>); null when all passed.</summary>
    public string? ReadinessReasons { get; set; }

    /// <summary>When that readiness check ran: an outcome ages as devices and directories change.</summary>
    public DateTimeOffset? ReadinessCheckedAt { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public static string KeyOf(string sourceDevice) => sourceDevice.Trim().ToUpperInvariant();

    /// <summary>A new mapping from a validated, normalised input (see <see cref="MappingRules"/>).</summary>
    public static Mapping Create(Guid projectId, MappingInput input, DateTimeOffset now) => new()
    {
        Id = Guid.CreateVersion7(now),
        ProjectId = projectId,
        SourceDevice = input.SourceDevice!,
        SourceDeviceKey = KeyOf(input.SourceDevice!),
        DestinationName = input.DestinationName!,
        DestinationOu = input.DestinationOu,
        PrimaryUser = input.PrimaryUser,
        DestinationUser = input.DestinationUser,
        CreatedAt = now,
        UpdatedAt = now,
    };
}
