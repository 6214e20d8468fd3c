namespace Rehome.Server.Store;

/// <summary>
/// A connection's bulk enrollment provisioning package, encrypted. In a table of its own so that reading
/// connections (every lease reads its destination) never loads megabytes of package; read only to stream it
/// to an agent that holds a rejoin's lease.
/// </summary>
public sealed class ConnectionPackage
{
    public Guid ConnectionId { get; set; }

    /// <summary>The .ppkg file as <see cref="Secrets.SecretProtector.ProtectBytes"/> made it.</summary>
    public required byte[] ProtectedContent { get; set; }
}
