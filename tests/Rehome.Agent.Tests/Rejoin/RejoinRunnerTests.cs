using Rehome.Agent.Jobs;
using Rehome.Agent.Jobs.RejoinDomain;
using Rehome.Agent.Journal;
using Rehome.Agent.Platform.Simulated;
using Rehome.Protocol;

namespace Rehome.Agent.Tests.Rejoin;

/// <summary>The rejoin's step sequences on a simulated device, through the real runner: no path strands the device.</summary>
public sealed class RejoinRunnerTests
{
    private static readonly BreakGlassAccount BreakGlass = new("rehome-rescue", "Rescue-Password-1");

    public static TheoryData<string> JoinPaths => ["ActiveDirectoryOffline", "ActiveDirectoryOnline", "Hybrid", "EntraOffline"];

    private static DestinationJoin PathJoin(string path) => path switch
    {
        "ActiveDirectoryOffline" => RejoinDevice.ActiveDirectoryOffline,
        "ActiveDirectoryOnline" => RejoinDevice.ActiveDirectoryOnline,
        "Hybrid" => RejoinDevice.Hybrid,
        _ => RejoinDevice.EntraOffline,
    };

    [Theory]
    [MemberData(nameof(JoinPaths))]
    public async Task Each_join_path_ends_in_its_destination_with_everything_carried_over_and_nothing_left_behind(string path)
    {
        var join = PathJoin(path);
        using var device = new RejoinDevice(join, breakGlass: BreakGlass);

        var completion = await device.RunAsync();

        Assert.Equal(CompletionStatus.Finished, completion.Status);
        var state = device.State;
        Assert.Equal(RejoinDevice.DestinationName, state.ComputerName);
        Assert.Equal(join.Kind switch { JoinKind.EntraId => DeviceJoinType.EntraId, JoinKind.HybridIdentity => DeviceJoinType.HybridEntraId, _ => DeviceJoinType.ActiveDirectory }, state.JoinType);
        Assert.Equal(2, state.BootCount);
        Assert.False(state.SignInBlocked);
        Assert.Empty(state.BreakGlassAccounts);
        Assert.DoesNotContain(BreakGlass.UserName, state.LocalAccounts);
        Assert.False(state.KeptAwake);
        Assert.Contains("LeaveSource", state.StepsRunAwake);
        Assert.Contains("JoinDestination", state.StepsRunAwake);
        Assert.Equal(state.DefaultAppAssociations, state.ImportedAppAssociations);
        Assert.Equal([$"C: → {join.DomainDnsName ?? join.TenantId}"], state.EscrowedRecoveryKeys);
        Assert.Null(state.StagedJoin);
        Assert.Null(state.StagedReturn);
        // The primary user was a local administrator: its destination identity is one now (added after the restart).
        Assert.Contains(FakeGateway.DestinationDomainSid + "-10001", state.LocalAdministrators);
        Assert.Contains(RejoinDevice.UserSid, state.LocalAdministrators);
        Assert.Equal(join.Kind == JoinKind.EntraId, device.Gateway.Calls.Contains("package/destination"));
        Assert.Contains("return-ticket", device.Gateway.Calls);
        // The log goes up under the job's lease like every other write about the job.
        Assert.Equal([device.Assignment.LeaseToken], device.Gateway.LogLeaseTokens.Distinct());
    }

    [Fact]
    public async Task A_server_too_busy_for_the_log_still_has_the_lease_renewed_at_every_report()
    {
        using var device = new RejoinDevice(RejoinDevice.ActiveDirectoryOffline, breakGlass: BreakGlass);
        device.Gateway.BusyLogAnswers = 3;

        var completion = await device.RunAsync();

        Assert.Equal(CompletionStatus.Finished, completion.Status);
        // Each refused log upload of the report loop comes after that report's renewal: a log the server cannot
        // take now (503 from a full store lane) must not keep the lease from being renewed, or it lapses.
        var calls = device.Gateway.Calls.ToList();
        var beforeFirstLogTaken = calls.Take(calls.Select((c, i) => (c, i)).Where(x => x.c == "log").Skip(3).First().i).ToList();
        Assert.Equal(3, beforeFirstLogTaken.Count(c => c == "log"));
        Assert.True(beforeFirstLogTaken.Count(c => c == "progress") >= 3, string.Join(", ", beforeFirstLogTaken));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_whole_log_reaches_the_server_with_the_reports_or_apart_from_a_server_that_ignores_them(bool takesLogLines)
    {
        using var device = new RejoinDevice(RejoinDevice.ActiveDirectoryOffline, breakGlass: BreakGlass);
        device.Gateway.TakesLogLines = takesLogLines;

        var completion = await device.RunAsync();

        Assert.Equal(CompletionStatus.Finished, completion.Status);
        var local = File.ReadAllLines(Path.Combine(device.Journal.Folder, "log.jsonl")).Length;
        Assert.True(local > 0);
        // Every line once, none missing: line numbers 0 … n-1 and nothing else.
        Assert.Equal(Enumerable.Range(0, local).Select(i => (long)i), device.Gateway.LoggedLines.Keys.Order());
        Assert.Equal(local, device.Journal.Record.LogLinesUploaded);
        var withReports = device.Gateway.LoggedLines.Values.Count(l => l.WithReport);
        if (takesLogLines)
        {
            Assert.True(withReports > 0, "no line came with a report");
        }
        else
        {
            Assert.Equal(0, withReports);
        }
    }

    [Fact]
    public async Task A_server_that_answers_every_log_chunk_busy_still_gets_the_whole_log_and_the_completion_on_reports()
    {
        using var device = new RejoinDevice(RejoinDevice.ActiveDirectoryOffline, breakGlass: BreakGlass);
        device.Gateway.TakesLogLines = true;
        device.Gateway.BusyLogAnswers = int.MaxValue;

        var completion = await device.RunAsync();

        // The last lines went on a report before the completion: a completion behind a log chunk the general share
        // refuses would wait as long as the server is busy, while the lease runs out.
        Assert.Equal(CompletionStatus.Finished, completion.Status);
        var local = File.ReadAllLines(Path.Combine(device.Journal.Folder, "log.jsonl")).Length;
        Assert.Equal(Enumerable.Range(0, local).Select(i => (long)i), device.Gateway.LoggedLines.Keys.Order());
        Assert.All(device.Gateway.LoggedLines.Values, l => Assert.True(l.WithReport));
    }

    [Fact]
    public async Task Log_lines_a_server_refuses_with_a_report_go_apart_and_the_reports_go_on_renewing()
    {
        using var device = new RejoinDevice(RejoinDevice.ActiveDirectoryOffline, breakGlass: BreakGlass);
        device.Gateway.TakesLogLines = true;
        var refusals = 0;
        var renewals = 0;
        device.Gateway.AnswerProgress = report =>
        {
            if (report.LogLines.Count == 0)
            {
                Interlocked.Increment(ref renewals);
                return null;
            }
            Interlocked.Increment(ref refusals);
            return new HttpResponseMessage(System.Net.HttpStatusCode.BadRequest)
            {
                Content = new StringContent(
                    """{"type":"https://rehome.dev/problems/validation","title":"Invalid request","status":400,"errors":[{"field":"logLines[0].level","rule":"UnknownLevel","message":"Line 0: the level is not known."}]}""",
                    System.Text.Encoding.UTF8, "application/problem+json"),
            };
        };

        var completion = await device.RunAsync();

        Assert.Equal(CompletionStatus.Finished, completion.Status);
        // Refused once for each start of the agent (the rejoin restarts the device) and once before the completion; every
        // later report renews without lines, and the whole log still arrives, apart.
        Assert.InRange(refusals, 1, device.Agents + 1);
        Assert.True(renewals > 0);
        var local = File.ReadAllLines(Path.Combine(device.Journal.Folder, "log.jsonl")).Length;
        Assert.Equal(Enumerable.Range(0, local).Select(i => (long)i), device.Gateway.LoggedLines.Keys.Order());
        Assert.DoesNotContain(device.Gateway.LoggedLines.Values, l => l.WithReport);
    }

    [Fact]
    public async Task A_destination_join_that_keeps_failing_sends_the_device_back_to_its_source_not_to_a_workgroup()
    {
        using var device = new RejoinDevice(RejoinDevice.ActiveDirectoryOffline, new SimulatedFaults { FailStep = "JoinDestination" }, BreakGlass);

        var completion = await device.RunAsync();

        Assert.Equal(CompletionStatus.Failed, completion.Status);
        Assert.Equal("InjectedFailure", completion.ErrorCode);
        Assert.Contains("went back to its source, contoso.example as CTS-PC00001", completion.ErrorMessage, StringComparison.Ordinal);
        AssertBackInSource(device.State);
        Assert.Equal(2, device.State.BootCount);
        var log = File.ReadAllText(device.Journal.PathOf("log.jsonl"));
        Assert.Contains("JoinDestination failed (attempt 2)", log, StringComparison.Ordinal);
        Assert.DoesNotContain("JoinDestination failed (attempt 3)", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_hybrid_source_device_goes_back_into_its_domain_and_is_taken_as_home_before_its_registration_returns()
    {
        using var device = new RejoinDevice(RejoinDevice.ActiveDirectoryOffline, new SimulatedFaults { FailStep = "JoinDestination" }, BreakGlass,
            sourceJoinType: DeviceJoinType.HybridEntraId);

        var completion = await device.RunAsync();

        Assert.Equal(CompletionStatus.Failed, completion.Status);
        Assert.Equal("InjectedFailure", completion.ErrorCode);
        AssertBackInSource(device.State);
    }

    [Theory]
    [InlineData("LeaveSource")]
    [InlineData("JoinDestination")]
    [InlineData("ConfirmDestination")]
    public async Task A_lease_lost_after_the_device_left_does_not_stop_it_short_of_its_destination(string step)
    {
        // The step is slow, so that its progress report (where the server answers 409 from then on) surely goes out.
        using var device = new RejoinDevice(RejoinDevice.ActiveDirectoryOffline, new SimulatedFaults { SlowStep = step, SlowSeconds = 1 }, BreakGlass);
        device.Gateway.LoseLeaseAtStep = step;

        var outcome = await device.RunToEndAsync();

        // It reaches a safe end (in the destination, secrets discarded, users let in); the rest waits for the server.
        Assert.Equal(JobOutcome.LeaseLost, outcome);
        var state = device.State;
        Assert.Equal(RejoinDevice.DestinationName, state.ComputerName);
        Assert.Equal(DeviceJoinType.ActiveDirectory, state.JoinType);
        Assert.False(state.SignInBlocked);
        Assert.Null(state.StagedReturn);
        Assert.Equal(JournalPhase.Running, device.Journal.Record.Phase);
        Assert.True(JobRunner.WaitsForItsLease(device.Journal));
    }

    [Fact]
    public async Task A_leave_that_fails_after_the_ticket_was_made_goes_back_through_the_ticket()
    {
        using var device = new RejoinDevice(RejoinDevice.ActiveDirectoryOffline, new SimulatedFaults { FailStep = "LeaveSource" }, BreakGlass);

        var completion = await device.RunAsync();

        Assert.Equal(CompletionStatus.Failed, completion.Status);
        AssertBackInSource(device.State);
        // The ticket reset the source account's password: the device rejoined its source with it (one restart).
        Assert.Equal(2, device.State.BootCount);
    }

    [Fact]
    public async Task A_return_ticket_that_does_not_take_is_tried_again_with_a_fresh_one()
    {
        using var device = new RejoinDevice(RejoinDevice.ActiveDirectoryOffline, new SimulatedFaults { FailStep = "JoinDestination", ReturnJoinFailures = 1 }, BreakGlass);

        var completion = await device.RunAsync();

        Assert.Equal(CompletionStatus.Failed, completion.Status);
        Assert.Equal("InjectedFailure", completion.ErrorCode);
        AssertBackInSource(device.State);
        Assert.Equal(3, device.State.BootCount);
        Assert.Equal(2, device.Gateway.Calls.Count(c => c == "return-ticket"));
    }

    [Fact]
    public async Task When_neither_destination_nor_source_can_be_reached_sign_in_is_lifted_the_break_glass_account_stays_and_an_administrator_is_asked_for()
    {
        using var device = new RejoinDevice(RejoinDevice.ActiveDirectoryOffline, new SimulatedFaults { FailStep = "JoinDestination", ReturnJoinFailures = 100 }, BreakGlass);

        var completion = await device.RunAsync();

        Assert.Equal(CompletionStatus.Failed, completion.Status);
        Assert.Equal("NeedsAdministrator", completion.ErrorCode);
        Assert.Contains(BreakGlass.UserName, completion.ErrorMessage, StringComparison.Ordinal);
        var state = device.State;
        Assert.False(state.SignInBlocked);
        Assert.Equal([BreakGlass.UserName], state.BreakGlassAccounts);
        Assert.Equal(1 + JobRunner.MaxReturnCycles, state.BootCount);
    }

    [Fact]
    public async Task A_destination_that_refuses_once_right_after_the_boot_is_asked_again_and_the_device_stays()
    {
        using var device = new RejoinDevice(RejoinDevice.ActiveDirectoryOffline, new SimulatedFaults { DestinationRefusals = 1 });

        var completion = await device.RunAsync();

        Assert.Equal(CompletionStatus.Finished, completion.Status);
        Assert.Equal(RejoinDevice.DestinationName, device.State.ComputerName);
        Assert.Equal(1, device.State.DestinationRefusalsGiven);
    }

    [Fact]
    public async Task A_device_that_comes_back_outside_its_destination_after_the_restart_goes_back_through_its_ticket()
    {
        using var device = new RejoinDevice(RejoinDevice.ActiveDirectoryOffline, new SimulatedFaults { JoinIgnoredAtRestart = true }, BreakGlass);

        var completion = await device.RunAsync();

        Assert.Equal(CompletionStatus.Failed, completion.Status);
        Assert.Equal("NotInDestination", completion.ErrorCode);
        AssertBackInSource(device.State);
        Assert.Equal(3, device.State.BootCount);
    }

    [Fact]
    public async Task Without_a_return_ticket_the_device_never_leaves_its_source_and_everything_is_undone()
    {
        using var device = new RejoinDevice(RejoinDevice.ActiveDirectoryOffline, breakGlass: BreakGlass);
        device.Gateway.ReturnTicket = _ => null;
        new SimulatedDeviceStateFile(device.DeviceFolder).Change(s => s with { CachedLogonsCount = 0 });

        var completion = await device.RunAsync();

        Assert.Equal(CompletionStatus.Failed, completion.Status);
        Assert.Equal("NoReturnTicket", completion.ErrorCode);
        var state = device.State;
        AssertBackInSource(state);
        Assert.Equal(1, state.BootCount);
        Assert.False(state.StepRuns.ContainsKey("LeaveSource"));
        Assert.Null(state.StagedJoin);
        Assert.Equal(0, state.CachedLogonsCount);
    }

    [Fact]
    public async Task A_hybrid_registration_that_never_comes_is_reported_and_the_device_stays_in_its_destination_domain()
    {
        using var device = new RejoinDevice(RejoinDevice.Hybrid, new SimulatedFaults { HybridNeverRegisters = true }, policy: new JobPolicy { HybridRegistrationWaitSeconds = 0 });

        var completion = await device.RunAsync();

        Assert.Equal(CompletionStatus.Exceptions, completion.Status);
        Assert.Equal(DeviceJoinType.ActiveDirectory, device.State.JoinType);
        Assert.Equal("fabrikam.example", device.State.DomainName);
        Assert.Contains("No hybrid registration in", File.ReadAllText(device.Journal.PathOf("log.jsonl")), StringComparison.Ordinal);
        Assert.True(device.State.HybridTriggered);
    }

    [Fact]
    public async Task A_stop_before_leaving_undoes_the_lock_the_staged_join_and_the_break_glass_account()
    {
        using var device = new RejoinDevice(RejoinDevice.ActiveDirectoryOffline, new SimulatedFaults { SlowStep = "ExportAppAssociations", SlowSeconds = 3 }, BreakGlass);
        device.Gateway.StopRequested = true;

        var completion = await device.RunAsync();

        Assert.Equal(CompletionStatus.Stopped, completion.Status);
        var state = device.State;
        AssertBackInSource(state);
        Assert.Null(state.StagedJoin);
        Assert.DoesNotContain("return-ticket", device.Gateway.Calls);
    }

    [Fact]
    public async Task A_domain_identity_cannot_be_added_to_administrators_while_the_device_belongs_to_no_domain()
    {
        using var device = new RejoinDevice(RejoinDevice.ActiveDirectoryOffline);
        var platform = new SimulatedDevicePlatform(device.DeviceFolder, new NetworkGate(), TimeProvider.System);
        await platform.Membership.LeaveSourceAsync(await platform.Membership.GetAsync(CancellationToken.None), CancellationToken.None);

        var outcome = await platform.Accounts.AddAdministratorAsync(FakeGateway.DestinationDomainSid + "-10001", CancellationToken.None);

        Assert.Equal(Platform.MemberChange.NotResolvable, outcome);
        Assert.DoesNotContain(FakeGateway.DestinationDomainSid + "-10001", device.State.LocalAdministrators);
    }

    public static TheoryData<string, string, bool> CrashPoints()
    {
        var data = new TheoryData<string, string, bool>();
        var plan = JobPlans.For(AgentJobKind.RejoinDomain, new DeviceFacts { DeviceName = "", OsVersion = "", AgentVersion = "" });
        foreach (var path in new[] { "ActiveDirectoryOffline", "ActiveDirectoryOnline", "Hybrid", "EntraOffline" })
        {
            foreach (var step in plan.Steps)
            {
                foreach (var after in new[] { false, true })
                {
                    // After the effect of a restart is the next boot: the resume itself.
                    if (!(step is RestartStep && after))
                    {
                        data.Add(path, step.Name, after);
                    }
                }
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(CrashPoints))]
    public async Task A_crash_at_any_step_of_any_join_path_ends_as_without_the_crash(string path, string step, bool afterEffect)
    {
        using var reference = new RejoinDevice(PathJoin(path), breakGlass: BreakGlass);
        using var crashing = new RejoinDevice(PathJoin(path), new SimulatedFaults { CrashStep = step, CrashAfterEffect = afterEffect }, BreakGlass);

        var expected = await reference.RunAsync();
        var completion = await crashing.RunAsync();

        Assert.Contains(step, crashing.State.CrashesDone);
        Assert.Equal(expected.Status, completion.Status);
        AssertSameEnd(reference.State, crashing.State);
        Assert.True(crashing.State.StepRuns.GetValueOrDefault("LeaveSource") <= 1, "LeaveSource ran twice");
        Assert.True(crashing.State.StepRuns.GetValueOrDefault("JoinDestination") <= 1, "JoinDestination ran twice");
    }

    public static TheoryData<string, bool> ReturnCrashPoints()
    {
        var data = new TheoryData<string, bool>();
        var plan = JobPlans.For(AgentJobKind.RejoinDomain, new DeviceFacts { DeviceName = "", OsVersion = "", AgentVersion = "" });
        foreach (var step in plan.ReturnSteps)
        {
            foreach (var after in new[] { false, true })
            {
                if (!(step is RestartStep && after))
                {
                    data.Add(step.Name, after);
                }
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ReturnCrashPoints))]
    public async Task A_crash_on_the_way_back_ends_back_in_the_source_as_without_the_crash(string step, bool afterEffect)
    {
        using var reference = new RejoinDevice(RejoinDevice.ActiveDirectoryOffline, new SimulatedFaults { FailStep = "JoinDestination" }, BreakGlass);
        using var crashing = new RejoinDevice(RejoinDevice.ActiveDirectoryOffline,
            new SimulatedFaults { FailStep = "JoinDestination", CrashStep = step, CrashAfterEffect = afterEffect }, BreakGlass);

        var expected = await reference.RunAsync();
        var completion = await crashing.RunAsync();

        Assert.Contains(step, crashing.State.CrashesDone);
        Assert.Equal(expected.Status, completion.Status);
        Assert.Equal(expected.ErrorCode, completion.ErrorCode);
        AssertBackInSource(crashing.State);
        AssertSameEnd(reference.State, crashing.State);
    }

    private static void AssertBackInSource(SimulatedDeviceState state)
    {
        Assert.Equal(RejoinDevice.SourceName, state.ComputerName);
        Assert.Equal(DeviceJoinType.ActiveDirectory, state.JoinType);
        Assert.Equal(RejoinDevice.SourceDomain, state.DomainName);
        Assert.Null(state.PendingJoin);
        Assert.False(state.SignInBlocked);
        Assert.False(state.Locked);
        Assert.Empty(state.BreakGlassAccounts);
        Assert.False(state.KeptAwake);
    }

    private static void AssertSameEnd(SimulatedDeviceState expected, SimulatedDeviceState actual)
    {
        Assert.Equal(expected.ComputerName, actual.ComputerName);
        Assert.Equal(expected.JoinType, actual.JoinType);
        Assert.Equal(expected.DomainName, actual.DomainName);
        Assert.Equal(expected.TenantId, actual.TenantId);
        Assert.Equal(expected.BootCount, actual.BootCount);
        Assert.Equal(expected.SignInBlocked, actual.SignInBlocked);
        Assert.Equal(expected.BreakGlassAccounts, actual.BreakGlassAccounts);
        Assert.Equal(expected.LocalAccounts, actual.LocalAccounts);
        Assert.Equal(expected.LocalAdministrators.Order(), actual.LocalAdministrators.Order());
        Assert.Equal(expected.EscrowedRecoveryKeys.Distinct(), actual.EscrowedRecoveryKeys.Distinct());
        Assert.Equal(expected.ImportedAppAssociations, actual.ImportedAppAssociations);
        Assert.Equal(expected.CachedLogonsCount, actual.CachedLogonsCount);
        Assert.False(actual.KeptAwake);
    }
}
