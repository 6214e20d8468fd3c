using System.Globalization;
using Rehome.Agent.Platform;

namespace Rehome.Agent.Jobs.Common;

/// <summary>
/// Warns the user and waits for "start now", as the policy says: silent when nobody is logged on or the policy
/// is silent; snoozes until the forced start, which counts from the first prompt (journaled, so a restart does
/// not give the user a new period).
/// </summary>
public sealed class AskUserStep(string what) : JobStep
{
    private const string FirstPromptKey = "session.firstPromptAt";

    public override async Task RunAsync(JobContext context)
    {
        var policy = context.Assignment.Policy;
        if (policy.Silent || context.Session.LoggedOnUsers.Count == 0)
        {
            context.Log.Information(policy.Silent ? "The policy is silent: no prompt." : "Nobody is logged on: no prompt.");
            return;
        }
        var firstPrompt = context.Journal.Get(FirstPromptKey) is { } saved
            ? DateTimeOffset.Parse(saved, CultureInfo.InvariantCulture)
            : context.Time.GetUtcNow();
        context.Journal.Set(FirstPromptKey, firstPrompt.ToString("O", CultureInfo.InvariantCulture));
        var forceAt = firstPrompt + TimeSpan.FromSeconds(policy.ForceAfterSeconds);
        // Ask again after a quarter of the period (at most an hour), so a snooze is a snooze, not a refusal.
        var snooze = TimeSpan.FromSeconds(Math.Clamp(policy.ForceAfterSeconds / 4.0, 1, 3600));
        while (true)
        {
            var now = context.Time.GetUtcNow();
            if (policy.ForcedStart && now >= forceAt)
            {
                await context.Session.NotifyAsync($"{what} starts now: the snooze period is over. Your device will restart at the end.", context.Cancellation);
                context.Log.Information("Forced start: the snooze period is over.");
                return;
            }
            var message = $"{what} is ready. Save your work: your screen will be locked and the device restarts at the end.";
            var timeout = policy.ForcedStart ? Min(forceAt - now, snooze) : snooze;
            var answer = await context.Session.AskToStartAsync(message, policy.SnoozeAllowed, timeout, context.Cancellation);
            if (answer == PromptAnswer.StartNow || !policy.SnoozeAllowed && answer == PromptAnswer.NoAnswer && !policy.ForcedStart)
            {
                context.Log.Information("The user chose to start now.");
                return;
            }
            context.Message = answer == PromptAnswer.Snooze ? "Snoozed by the user" : "Waiting for the user";
            context.Log.Information(answer == PromptAnswer.Snooze ? "The user snoozed." : "No answer from the user.");
            var wait = policy.ForcedStart ? Min(forceAt - context.Time.GetUtcNow(), snooze) : snooze;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, context.Time, context.Cancellation);
            }
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}

/// <summary>
/// Locks the sessions behind a notice that says why and blocks sign-in while the device changes (the platform
/// keeps the block across restarts and lifts it when no job holds it); undone by a rollback or a stop.
/// </summary>
public sealed class LockSessionStep(string why) : JobStep
{
    public override bool UndoOnStop => true;

    public override async Task RunAsync(JobContext context)
    {
        await context.Session.LockAsync(why, context.Cancellation);
        context.Log.Information($"Sessions locked and sign-in blocked: {why}");
    }

    public override bool UndoneByRevert => false;

    public override Task UndoAsync(JobContext context) => context.Session.UnlockAsync(CancellationToken.None);
}

/// <summary>Unlocks the sessions and lets users sign in again, at the end of a job that locked them.</summary>
public sealed class UnlockSessionStep : JobStep
{
    public override AfterLeavingFailure WhenFailedAfterLeaving => AfterLeavingFailure.CarryOn;

    /// <summary>In a rejoin it comes once the device proved it is in its destination.</summary>
    public override bool SafeEnd => true;

    public override async Task RunAsync(JobContext context)
    {
        await context.Session.UnlockAsync(context.Cancellation);
        context.Log.Information("Sign-in allowed again.");
    }
}
