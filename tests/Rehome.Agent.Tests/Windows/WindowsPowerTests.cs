using Rehome.Agent.Jobs;
using Rehome.Agent.Platform;
using Rehome.Agent.Platform.Windows;

namespace Rehome.Agent.Tests.Windows;

public sealed class WindowsPowerTests : IDisposable
{
    private readonly FakeWindowsDevice device = new();

    public void Dispose() => device.Dispose();

    [Fact]
    public void Keeping_awake_sets_system_and_execution_required_and_disposing_clears_them_in_reverse_and_closes_the_request()
    {
        using (device.Power.KeepAwake("Rehome: rejoin"))
        {
            Assert.Equal(["PowerCreateRequest(Rehome: rejoin)", "PowerSetRequest(42, SystemRequired)", "PowerSetRequest(42, ExecutionRequired)"], device.Calls);
        }

        Assert.Equal(
            [
                "PowerCreateRequest(Rehome: rejoin)", "PowerSetRequest(42, SystemRequired)", "PowerSetRequest(42, ExecutionRequired)",
                "PowerClearRequest(42, ExecutionRequired)", "PowerClearRequest(42, SystemRequired)", "CloseHandle(42)",
            ],
            device.Calls);
    }

    [Fact]
    public void Disposing_the_request_twice_clears_and_closes_it_once()
    {
        var awake = device.Power.KeepAwake("Rehome");

        awake.Dispose();
        awake.Dispose();

        Assert.Single(device.Calls, call => call.StartsWith("CloseHandle", StringComparison.Ordinal));
        Assert.Equal(2, device.Calls.Count(call => call.StartsWith("PowerClearRequest", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_power_request_windows_refuses_does_not_stop_the_job_and_leaves_nothing_to_clear()
    {
        device.PowerRequests.CreateResult = WindowsErrors.AccessDenied;

        device.Power.KeepAwake("Rehome").Dispose();

        Assert.Equal(["PowerCreateRequest(Rehome)"], device.Calls);
    }

    [Fact]
    public void A_request_type_windows_refuses_is_not_cleared_but_the_request_is_still_closed()
    {
        device.PowerRequests.SetResults[PowerRequestType.ExecutionRequired] = 87;

        device.Power.KeepAwake("Rehome").Dispose();

        Assert.Equal(["PowerClearRequest(42, SystemRequired)", "CloseHandle(42)"], device.Calls.Skip(3));
    }

    [Fact]
    public async Task A_restart_enables_the_shutdown_privilege_asks_windows_and_ends_the_agent_when_the_service_stops()
    {
        using var serviceStopping = new CancellationTokenSource();

        var restart = device.Power.RestartAsync("Rehome: join", serviceStopping.Token);
        Assert.False(restart.IsCompleted);
        await serviceStopping.CancelAsync();

        await Assert.ThrowsAsync<DeviceRestartingException>(() => restart);
        Assert.Equal(["EnableShutdownPrivilege", "InitiateShutdown(30)"], device.Calls);
        Assert.Equal(WindowsPower.ShutdownRestart | WindowsPower.ShutdownForceOthers, device.Shutdown.LastFlags);
    }

    [Fact]
    public async Task A_restart_somebody_aborted_ends_the_wait_so_the_journal_asks_again()
    {
        var restart = device.Power.RestartAsync("Rehome", default);

        device.Time.Advance(WindowsPower.RestartWait - TimeSpan.FromSeconds(1));
        Assert.False(restart.IsCompleted);
        device.Time.Advance(TimeSpan.FromSeconds(1));

        await Assert.ThrowsAsync<DeviceRestartingException>(() => restart);
    }

    [Fact]
    public async Task A_restart_already_under_way_counts_as_restarting()
    {
        device.Shutdown.ShutdownResult = WindowsErrors.ShutdownInProgress;

        var restart = device.Power.RestartAsync("Rehome", default);
        device.Time.Advance(WindowsPower.RestartWait);

        await Assert.ThrowsAsync<DeviceRestartingException>(() => restart);
    }

    [Fact]
    public async Task A_restart_windows_refuses_fails_the_step_with_its_code()
    {
        device.Shutdown.ShutdownResult = WindowsErrors.AccessDenied;

        var failure = await Assert.ThrowsAsync<StepFailedException>(() => device.Power.RestartAsync("Rehome", default));

        Assert.Equal("AccessDenied", failure.Code);
    }

    [Fact]
    public async Task Without_the_shutdown_privilege_windows_is_not_asked_to_restart()
    {
        device.Shutdown.PrivilegeResult = 1300;

        await Assert.ThrowsAsync<StepFailedException>(() => device.Power.RestartAsync("Rehome", default));

        Assert.Equal(["EnableShutdownPrivilege"], device.Calls);
    }

    [Fact]
    public void The_boot_count_is_the_counters()
    {
        device.Boots = 12;

        Assert.Equal(12, device.Power.BootCount);
    }
}
