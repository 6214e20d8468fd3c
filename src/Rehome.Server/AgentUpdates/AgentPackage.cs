namespace Rehome.Server.AgentUpdates;

/// <summary>
/// An agent package an administrator uploaded: its version, size, SHA-256 and the publisher's detached signature,
/// checked against a configured publisher key before it was accepted. The bytes are in <see cref="AgentPackageContent"/>.
/// </summary>
public sealed class AgentPackage
{
    public Guid Id { get; set; }

    public required string Version { get; set; }

    public long SizeBytes { get; set; }

    /// <summary>Lower-case hex.</summary>
    public required string Sha256 { get; set; }

    /// <summary>The detached signature, base64, as uploaded (agents check it again against their own key).</summary>
    public required string Signature { get; set; }

    /// <summary>The fingerprint of the publisher key that verified the signature.</summary>
    public required string PublisherKey { get; set; }

    public required string UploadedBy { get; set; }

    public DateTimeOffset UploadedAt { get; set; }

    /// <summary>The version every agent should run, unless its connection names another (<see cref="AgentPackageTarget"/>). One package at most.</summary>
    public bool IsCurrent { get; set; }
}

/// <summary>
/// A package's bytes, in a table of their own so that listing packages or answering an agent's "which version?"
/// never loads them. In the store rather than a data folder: every replica on one PostgreSQL database serves them.
/// </summary>
public sealed class AgentPackageContent
{
    public Guid PackageId { get; set; }

    public required byte[] Content { get; set; }
}

/// <summary>The version the agents of one source connection should run, instead of the current one (a pilot group, say).</summary>
public sealed class AgentPackageTarget
{
    public Guid ConnectionId { get; set; }

    public Guid PackageId { get; set; }
}
