namespace Rehome.Server.Auth;

/// <summary>
/// One console sign-in, kept on the server: the cookie carries only this row's id, so signing out (or a
/// password change, a disable, a reset) ends it here and a copy of the cookie replayed later opens nothing.
/// </summary>
public sealed class ConsoleSignIn
{
    public Guid Id { get; set; }

    public Guid AccountId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When the cookie was last used (kept to the minute: writing it on every request would make each read a write).</summary>
    public DateTimeOffset LastSeenAt { get; set; }

    /// <summary>Set on sign-out, password change, reset, disable: from then on the cookie is refused.</summary>
    public DateTimeOffset? EndedAt { get; set; }
}
