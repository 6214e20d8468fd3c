using Rehome.Protocol;

namespace Rehome.Agent.Platform.Windows;

// Placeholders until the session branch's WindowsLocalAccounts, WindowsDeviceSettings and WindowsUserSession are
// merged: the lead deletes this file then. Every member refuses, so nothing pretends to work.

internal sealed class WindowsLocalAccounts(ILogger? logger = null) : ILocalAccounts
{
    private readonly ILogger? logger = logger;

    public Task<IReadOnlyList<string>> GetAdministratorsAsync(CancellationToken ct) => throw Pending(logger);

    public Task<MemberChange> AddAdministratorAsync(string sid, CancellationToken ct) => throw Pending(logger);

    public Task<MemberChange> RemoveAdministratorAsync(string sid, CancellationToken ct) => throw Pending(logger);

    public Task<bool> CreateBreakGlassAsync(BreakGlassAccount account, CancellationToken ct) => throw Pending(logger);

    public Task RemoveBreakGlassAsync(string userName, CancellationToken ct) => throw Pending(logger);

    internal static PlatformNotSupportedException Pending(ILogger? logger)
    {
        _ = logger;
        return new PlatformNotSupportedException("This part of the Windows platform arrives with the session branch.");
    }
}

internal sealed class WindowsDeviceSettings(ILogger? logger = null) : IDeviceSettings
{
    private readonly ILogger? logger = logger;

    public Task<bool> ExportDefaultAppAssociationsAsync(string file, CancellationToken ct) => throw WindowsLocalAccounts.Pending(logger);

    public Task ImportDefaultAppAssociationsAsync(string file, CancellationToken ct) => throw WindowsLocalAccounts.Pending(logger);

    public Task<int> EscrowBitLockerKeysAsync(DestinationJoin join, CancellationToken ct) => throw WindowsLocalAccounts.Pending(logger);

    public Task<int?> GetCachedLogonsCountAsync(CancellationToken ct) => throw WindowsLocalAccounts.Pending(logger);

    public Task SetCachedLogonsCountAsync(int? count, CancellationToken ct) => throw WindowsLocalAccounts.Pending(logger);
}

internal sealed class WindowsUserSession(ILogger? logger = null) : IUserSession
{
    private readonly ILogger? logger = logger;

    public IReadOnlyList<string> LoggedOnUsers => throw WindowsLocalAccounts.Pending(logger);

    public bool IsLocked => throw WindowsLocalAccounts.Pending(logger);

    public Task NotifyAsync(string message, CancellationToken ct) => throw WindowsLocalAccounts.Pending(logger);

    public Task<PromptAnswer> AskToStartAsync(string message, bool snoozeAllowed, TimeSpan timeout, CancellationToken ct) => throw WindowsLocalAccounts.Pending(logger);

    public Task LockAsync(string reason, CancellationToken ct) => throw WindowsLocalAccounts.Pending(logger);

    public Task UnlockAsync(CancellationToken ct) => throw WindowsLocalAccounts.Pending(logger);

    public Task<CredentialCaching> CacheCredentialsAsync(string destinationUser, CancellationToken ct) => throw WindowsLocalAccounts.Pending(logger);
}
