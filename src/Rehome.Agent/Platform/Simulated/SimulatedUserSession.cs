namespace Rehome.Agent.Platform.Simulated;

/// <summary>The simulated users: they answer prompts from the device's scripted answers and see locks and notices.</summary>
public sealed class SimulatedUserSession(SimulatedDeviceStateFile state) : IUserSession
{
    public IReadOnlyList<string> LoggedOnUsers => state.Read().LoggedOnUsers;

    public bool IsLocked => state.Read().SignInBlocked;

    public Task NotifyAsync(string message, CancellationToken ct)
    {
        state.Change(s => s with { Notifications = [.. s.Notifications, message] });
        return Task.CompletedTask;
    }

    public Task<PromptAnswer> AskToStartAsync(string message, bool snoozeAllowed, TimeSpan timeout, CancellationToken ct)
    {
        var after = state.Change(s => s with { PromptsShown = s.PromptsShown + 1, Notifications = [.. s.Notifications, message] });
        var answers = after.PromptAnswers;
        var answer = answers.Count == 0 ? PromptAnswer.NoAnswer : answers[Math.Min(after.PromptsShown - 1, answers.Count - 1)];
        return Task.FromResult(answer == PromptAnswer.Snooze && !snoozeAllowed ? PromptAnswer.NoAnswer : answer);
    }

    public Task LockAsync(string reason, CancellationToken ct)
    {
        state.Change(s => s with { Locked = s.LoggedOnUsers.Count > 0, SignInBlocked = true, LockNotice = reason });
        return Task.CompletedTask;
    }

    public Task UnlockAsync(CancellationToken ct)
    {
        state.Change(s => s with { Locked = false, SignInBlocked = false, LockNotice = null });
        return Task.CompletedTask;
    }

    public Task<CredentialCaching> CacheCredentialsAsync(string destinationUser, CancellationToken ct)
    {
        if (state.Read().LoggedOnUsers.Count == 0)
        {
            return Task.FromResult(CredentialCaching.NobodySignedIn);
        }
        state.Change(s => s.CachedCredentials.Contains(destinationUser) ? s : s with { CachedCredentials = [.. s.CachedCredentials, destinationUser] });
        return Task.FromResult(CredentialCaching.Cached);
    }
}
