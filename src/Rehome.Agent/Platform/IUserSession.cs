namespace Rehome.Agent.Platform;

/// <summary>What the user answered to "your device will move to a new organisation".</summary>
public enum PromptAnswer
{
    StartNow,
    Snooze,

    /// <summary>Nobody answered in time (or nobody is logged on).</summary>
    NoAnswer,
}

/// <summary>The interactive side of a device: notifying, asking, locking, keeping people out while it changes.</summary>
public interface IUserSession
{
    IReadOnlyList<string> LoggedOnUsers { get; }

    Task NotifyAsync(string message, CancellationToken ct);

    /// <summary>Asks to start now or snooze; waits at most <paramref name="timeout"/>.</summary>
    Task<PromptAnswer> AskToStartAsync(string message, bool snoozeAllowed, TimeSpan timeout, CancellationToken ct);

    /// <summary>
    /// Locks every signed-in session behind a notice that says why (<paramref name="reason"/>) and blocks new
    /// sign-ins (but the break-glass account's) until <see cref="UnlockAsync"/>. Persisted by the platform, so
    /// that an agent that starts and finds no job holding the lock lifts it (a crash never leaves it on).
    /// </summary>
    Task LockAsync(string reason, CancellationToken ct);

    /// <summary>Lifts the lock and the sign-in block; nothing when there is none.</summary>
    Task UnlockAsync(CancellationToken ct);

    /// <summary>Whether sign-in is blocked now (by this agent).</summary>
    bool IsLocked { get; }

    /// <summary>
    /// Has the signed-in user confirm their destination account (<paramref name="destinationUser"/>) once, so that
    /// Windows caches its logon and the first sign-in after an offline rejoin works without a domain controller.
    /// </summary>
    Task<CredentialCaching> CacheCredentialsAsync(string destinationUser, CancellationToken ct);
}

/// <summary>How caching a user's destination credentials went; only <see cref="Cached"/> means they are.</summary>
public enum CredentialCaching
{
    Cached,

    /// <summary>Nobody is signed in to give the password.</summary>
    NobodySignedIn,

    /// <summary>The user closed the prompt or did not answer in time.</summary>
    Declined,

    /// <summary>The destination refused the logon (no trust, not allowed to authenticate, wrong password).</summary>
    Refused,
}
