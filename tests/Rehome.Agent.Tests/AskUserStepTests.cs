using Rehome.Agent.Jobs.Common;
using Rehome.Agent.Platform;
using Rehome.Protocol;

namespace Rehome.Agent.Tests;

public sealed class AskUserStepTests
{
    private static readonly AskUserStep Step = new("The move");

    [Fact]
    public async Task Start_now_goes_on_at_once_after_one_prompt()
    {
        using var device = new DeviceFixture([PromptAnswer.StartNow]);

        var waited = await device.RunAsync(Step, TimeSpan.FromHours(10));

        Assert.Equal(TimeSpan.Zero, waited);
        Assert.Equal(1, device.Platform.State.PromptsShown);
    }

    [Fact]
    public async Task Snoozes_are_honoured_until_the_user_starts()
    {
        using var device = new DeviceFixture([PromptAnswer.Snooze, PromptAnswer.Snooze, PromptAnswer.StartNow]);

        var waited = await device.RunAsync(Step, TimeSpan.FromHours(10));

        Assert.Equal(3, device.Platform.State.PromptsShown);
        // Two snoozes of a quarter of the 4-hour period each.
        Assert.InRange(waited, TimeSpan.FromHours(2), TimeSpan.FromHours(2.1));
    }

    [Fact]
    public async Task The_forced_start_comes_when_the_snooze_period_is_over()
    {
        using var device = new DeviceFixture([PromptAnswer.Snooze], policy: new JobPolicy { ForceAfterSeconds = 3600 });

        var waited = await device.RunAsync(Step, TimeSpan.FromHours(10));

        Assert.InRange(waited, TimeSpan.FromHours(1), TimeSpan.FromHours(1.1));
        Assert.Contains(device.Platform.State.Notifications, n => n.Contains("snooze period is over", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_forced_start_counts_from_the_first_prompt_across_a_restart()
    {
        using var device = new DeviceFixture([PromptAnswer.Snooze], policy: new JobPolicy { ForceAfterSeconds = 3600 });
        device.Journal.Set("session.firstPromptAt", (device.Time.GetUtcNow() - TimeSpan.FromMinutes(50)).ToString("O", System.Globalization.CultureInfo.InvariantCulture));

        var waited = await device.RunAsync(Step, TimeSpan.FromHours(10));

        Assert.InRange(waited, TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(12));
    }

    [Fact]
    public async Task Nobody_logged_on_means_no_prompt()
    {
        using var device = new DeviceFixture([PromptAnswer.Snooze], loggedOn: false);

        var waited = await device.RunAsync(Step, TimeSpan.FromHours(10));

        Assert.Equal(TimeSpan.Zero, waited);
        Assert.Equal(0, device.Platform.State.PromptsShown);
    }

    [Fact]
    public async Task A_silent_policy_shows_nothing()
    {
        using var device = new DeviceFixture([PromptAnswer.Snooze], policy: new JobPolicy { Silent = true });

        await device.RunAsync(Step, TimeSpan.FromHours(10));

        Assert.Equal(0, device.Platform.State.PromptsShown);
        Assert.Empty(device.Platform.State.Notifications);
    }
}
