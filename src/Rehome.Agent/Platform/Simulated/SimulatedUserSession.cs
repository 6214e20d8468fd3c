namespace Rehome.Agent.Platform.Simulated;

/// <summary>The simulated users: they answer prompts from the device's scripted answers and see locks and notices.</summary>
public sealed class SimulatedUserSession(SimulatedDeviceStateFile state) : IUserSession
{
    public IReadOnlyList<string> LoggedOnUsers => state.Read().LoggedOnUsers;

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

    public Task LockAsync(CancellationToken ct)
    {
        state.Change(s => s with { Locked = true });
        return Task.CompletedTask;
    }

    public Task UnlockAsync(CancellationToken ct)
    {
        state.Change(s => s with { Locked = false });
        return Task.CompletedTask;
    }
}
