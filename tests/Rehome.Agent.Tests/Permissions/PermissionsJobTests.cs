using Rehome.Agent.Jobs.Common;
using Rehome.Agent.Jobs.MigratePermissions;
using Rehome.Agent.Platform;
using Rehome.Agent.Platform.Simulated;
using Rehome.Agent.Platform.Simulated.Areas;
using Rehome.Agent.Tests.Rejoin;
using Rehome.Protocol;

namespace Rehome.Agent.Tests.Permissions;

/// <summary>The permissions job over every area a simulated device models, through the real runner.</summary>
public sealed class PermissionsJobTests
{
    private const string DestinationUserSid = FakeGateway.DestinationDomainSid + "-10001";

    [Fact]
    public async Task A_permissions_job_migrates_every_area_the_device_supports_and_reports_each_with_its_counts()
    {
        using var device = new PermissionsDevice();
        var policy = device.Policy();
        var areas = PermissionsAreas.Of(policy);
        Assert.Contains(ReaclArea.LocalGroups, areas);
        Assert.Contains(ReaclArea.UserRights, areas);

        var completion = await device.RunAsync(policy);

        Assert.Equal(CompletionStatus.Finished, completion.Status);
        Assert.Equal(areas, completion.Areas.Select(a => a.Area));
        Assert.All(completion.Areas, count =>
        {
            Assert.Null(count.Problem);
            Assert.Equal(0, count.Failed);
            Assert.True(count.Changed > 0, $"{count.Area} changed nothing.");
            Assert.True(count.Seen >= count.Changed, $"{count.Area} changed more than it saw.");
            Assert.Empty(device.SourceSidsIn(count.Area, policy));
        });
        Assert.Equal(completion.Areas.Sum(a => a.Changed), completion.ItemsChanged);
        var state = device.State;
        Assert.Contains(DestinationUserSid, state.LocalAdministrators);
        Assert.DoesNotContain(PermissionsDevice.UserSid, state.LocalAdministrators);
    }

    [Fact]
    public async Task In_add_mode_the_source_holders_stay_and_a_destination_already_in_Administrators_is_not_added_twice()
    {
        using var device = new PermissionsDevice();
        // The rejoin's carry-over added the destination account to the local Administrators before.
        new SimulatedDeviceStateFile(device.DeviceFolder).Change(s => s with { LocalAdministrators = [.. s.LocalAdministrators, DestinationUserSid] });

        var completion = await device.RunAsync(device.Policy(ReaclMode.Add));

        Assert.Equal(CompletionStatus.Finished, completion.Status);
        var administrators = device.State.LocalAdministrators;
        Assert.Single(administrators, DestinationUserSid);
        Assert.Contains(PermissionsDevice.UserSid, administrators);
        var groups = new SimulatedLocalGroups(device.DeviceFolder, new SimulatedDeviceStateFile(device.DeviceFolder));
        Assert.Equal([PermissionsDevice.UserSid, DestinationUserSid], groups.ReadHolders("Remote Desktop Users").Select(s => s.ToString()));
    }

    [Fact]
    public async Task Reverting_the_finished_job_restores_every_area_byte_for_byte_and_reports_what_it_restored()
    {
        using var device = new PermissionsDevice();
        var before = device.Snapshot();
        var job = device.Assign(device.Policy());
        var done = await device.RunAsync(job);
        Assert.NotEqual(before, device.Snapshot());

        var revert = await device.RunAsync(device.Policy(), revertOf: job.JobId);

        Assert.Equal(CompletionStatus.Finished, revert.Status);
        Assert.Equal(before, device.Snapshot());
        Assert.Equal(done.Areas.Select(a => (a.Area, a.Changed)).OrderBy(a => a.Area), revert.Areas.Select(a => (a.Area, a.Changed)).OrderBy(a => a.Area));
        Assert.NotNull(device.Journal(job.JobId).Get(RevertFinishedJobStep.RevertedByKey));
    }

    [Fact]
    public async Task A_job_reverted_once_is_not_reverted_again()
    {
        using var device = new PermissionsDevice();
        var job = device.Assign(device.Policy());
        await device.RunAsync(job);
        await device.RunAsync(device.Policy(), revertOf: job.JobId);
        var afterRevert = device.Snapshot();

        var again = await device.RunAsync(device.Policy(), revertOf: job.JobId);

        Assert.Equal(CompletionStatus.Failed, again.Status);
        Assert.Equal("AlreadyReverted", again.ErrorCode);
        Assert.Equal(afterRevert, device.Snapshot());
    }

    [Fact]
    public async Task A_revert_that_failed_midway_is_taken_over_by_a_new_revert_that_restores_everything()
    {
        using var device = new PermissionsDevice(new SimulatedFaults { FailStep = "RevertFinishedJob.Registry" });
        var before = device.Snapshot();
        var job = device.Assign(device.Policy());
        await device.RunAsync(job);
        var failed = await device.RunAsync(device.Policy(), revertOf: job.JobId);
        Assert.Equal(CompletionStatus.Failed, failed.Status);
        Assert.Equal("InjectedFailure", failed.ErrorCode);
        Assert.NotEqual(before, device.Snapshot());
        new SimulatedDeviceStateFile(device.DeviceFolder).Change(s => s with { Faults = new SimulatedFaults() });

        var again = await device.RunAsync(device.Policy(), revertOf: job.JobId);

        Assert.Equal(CompletionStatus.Finished, again.Status);
        Assert.Equal(before, device.Snapshot());
    }

    [Fact]
    public async Task A_failed_job_that_rolled_back_is_refused_by_the_device_saying_so()
    {
        using var device = new PermissionsDevice(new SimulatedFaults { FailStep = "TranslateDescriptors" });
        var job = device.Assign(device.Policy());
        Assert.Equal(CompletionStatus.Failed, (await device.RunAsync(job)).Status);

        var revert = await device.RunAsync(device.Policy(), revertOf: job.JobId);

        Assert.Equal(CompletionStatus.Failed, revert.Status);
        Assert.Equal("RevertOfRolledBackJob", revert.ErrorCode);
        Assert.Contains("rolled back", revert.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_revert_whose_user_hive_stays_loaded_reports_the_area_once_with_its_count_and_the_problem()
    {
        using var device = new PermissionsDevice();
        var policy = device.Policy();
        var job = device.Assign(policy);
        var done = await device.RunAsync(job);
        var hives = device.Platform.Profiles.HiveCalls;
        var name = UserHives.TemporaryPrefix + PermissionsDevice.UserSid;
        // The user signed out; a handle to the hive's keys lingers, so the revert loads it and cannot unload it.
        hives.SignOut(PermissionsDevice.UserSid);
        Assert.Equal(0, hives.Load(name, $@"C:\Users\user00001\{UserHives.UserHiveFile}"));
        hives.HoldHandles(name, 100);

        var revert = await device.RunAsync(policy, revertOf: job.JobId);

        var userHives = Assert.Single(revert.Areas, a => a.Area == ReaclArea.UserHives);
        Assert.Equal(Assert.Single(done.Areas, a => a.Area == ReaclArea.UserHives).Changed, userHives.Changed);
        Assert.True(userHives.Changed > 0);
        Assert.Contains("stays loaded", userHives.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_revert_of_a_job_this_device_has_no_journal_of_is_refused()
    {
        using var device = new PermissionsDevice();

        var revert = await device.RunAsync(device.Policy(), revertOf: Guid.NewGuid());

        Assert.Equal(CompletionStatus.Failed, revert.Status);
        Assert.Equal("RevertJournalMissing", revert.ErrorCode);
    }

    [Fact]
    public async Task A_revert_of_a_dry_run_is_refused()
    {
        using var device = new PermissionsDevice();
        var preview = device.Assign(device.Policy(), dryRun: true);
        await device.RunAsync(preview);

        var revert = await device.RunAsync(device.Policy(), revertOf: preview.JobId);

        Assert.Equal(CompletionStatus.Failed, revert.Status);
        Assert.Equal("RevertOfDryRun", revert.ErrorCode);
    }

    [Fact]
    public async Task A_dry_run_counts_per_area_what_the_job_would_change_and_changes_nothing()
    {
        using var device = new PermissionsDevice();
        var before = device.Snapshot();

        var preview = await device.RunAsync(device.Policy(), dryRun: true);

        Assert.Equal(CompletionStatus.Finished, preview.Status);
        Assert.Equal(before, device.Snapshot());
        var real = await device.RunAsync(device.Policy());
        Assert.Equal(real.Areas, preview.Areas);
    }

    [Fact]
    public async Task An_area_the_device_cannot_do_ends_the_job_with_exceptions_and_says_why_while_the_others_are_done()
    {
        using var device = new PermissionsDevice(new SimulatedFaults { UnsupportedAreas = [ReaclArea.UserRights] });
        var policy = device.Policy() with { Areas = device.SupportedKinds() | DeviceAreas.UserRights };

        var completion = await device.RunAsync(policy);

        Assert.Equal(CompletionStatus.Exceptions, completion.Status);
        Assert.Equal("AreasNotDone", completion.ErrorCode);
        Assert.Contains("UserRights", completion.ErrorMessage, StringComparison.Ordinal);
        var rights = Assert.Single(completion.Areas, a => a.Area == ReaclArea.UserRights);
        Assert.Contains("cannot migrate", rights.Problem, StringComparison.Ordinal);
        Assert.All(completion.Areas.Where(a => a.Area != ReaclArea.UserRights), a => Assert.True(a.Problem is null && a.Changed > 0));
    }

    [Fact]
    public async Task An_area_that_fails_as_a_whole_is_reported_with_its_problem_and_the_job_ends_with_exceptions()
    {
        using var device = new PermissionsDevice();
        File.WriteAllText(Path.Combine(device.DeviceFolder, SimulatedUserRights.FileName), "not a rights store");

        var completion = await device.RunAsync(device.Policy());

        Assert.Equal(CompletionStatus.Exceptions, completion.Status);
        Assert.StartsWith("The area failed as a whole", Assert.Single(completion.Areas, a => a.Area == ReaclArea.UserRights).Problem, StringComparison.Ordinal);
        Assert.True(Assert.Single(completion.Areas, a => a.Area == ReaclArea.LocalGroups).Changed > 0);
    }

    [Fact]
    public async Task An_item_that_cannot_be_read_counts_as_failed_and_the_rest_of_its_area_is_done()
    {
        using var device = new PermissionsDevice();
        var descriptor = Path.Combine(device.DeviceFolder, "acl", "C", "Data", "Shared", "report000.xlsx.sd");
        File.WriteAllBytes(descriptor, [1, 2, 3]);

        var completion = await device.RunAsync(device.Policy());

        Assert.Equal(CompletionStatus.Exceptions, completion.Status);
        Assert.Equal("ItemErrors", completion.ErrorCode);
        var files = Assert.Single(completion.Areas, a => a.Area == ReaclArea.Files);
        Assert.Equal(1, files.Failed);
        Assert.True(files.Changed > 0);
        Assert.Null(files.Problem);
    }

    [Theory]
    [InlineData("TranslateDescriptors.Registry", false)]
    [InlineData("TranslateDescriptors.Files", true)]
    [InlineData("TranslateDescriptors.LocalGroups", true)]
    [InlineData("TranslateDescriptors.LocalGroups.Midway", false)]
    [InlineData("TranslateDescriptors.UserRights.Midway", false)]
    public async Task A_crash_in_the_middle_of_the_job_resumes_without_walking_finished_areas_again_and_counts_the_same(string at, bool afterEffect)
    {
        using var clean = new PermissionsDevice();
        var expected = await clean.RunAsync(clean.Policy());
        using var device = new PermissionsDevice(new SimulatedFaults { CrashStep = at, CrashAfterEffect = afterEffect });
        var before = device.Snapshot();
        var job = device.Assign(device.Policy());

        var completion = await device.RunAsync(job);

        Assert.Equal([at], device.State.CrashesDone);
        Assert.Equal(CompletionStatus.Finished, completion.Status);
        Assert.Equal(expected.Areas, completion.Areas);
        // Each area's walk ran to its end once, but the one the crash cut short before it was counted: no finished area was walked again.
        Assert.All(completion.Areas, a =>
            Assert.Equal(afterEffect && at.EndsWith("." + a.Area, StringComparison.Ordinal) ? 2 : 1, device.State.StepRuns.GetValueOrDefault($"TranslateDescriptors.{a.Area}")));
        await device.RunAsync(device.Policy(), revertOf: job.JobId);
        Assert.Equal(before, device.Snapshot());
    }
}
