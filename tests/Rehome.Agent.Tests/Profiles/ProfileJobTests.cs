using Microsoft.Extensions.Time.Testing;
using Rehome.Agent.Jobs;
using Rehome.Agent.Jobs.MigrateUserProfile;
using Rehome.Agent.Journal;
using Rehome.Agent.Platform;
using Rehome.Agent.Platform.Simulated;
using Rehome.Agent.Polling;
using Rehome.Agent.Tests.Rejoin;
using Rehome.Protocol;
using Rehome.Security.Descriptors;

namespace Rehome.Agent.Tests.Profiles;

/// <summary>A simulated device running one profile job through the real runner against a <see cref="FakeGateway"/>.</summary>
public sealed class ProfileDevice : IDisposable
{
    public const string UserSid = FakeGateway.SourceDomainSid + "-10001";
    public const string DestinationSid = FakeGateway.DestinationDomainSid + "-10001";
    public const string Home = @"C:\Users\user00001";

    static ProfileDevice()
    {
        JobRunner.FirstRetryDelay = TimeSpan.FromMilliseconds(1);
        JobRunner.MaxRetryDelay = TimeSpan.FromMilliseconds(5);
    }

    public ProfileDevice(bool loggedOn = false, TimeProvider? time = null, bool dryRun = false, SimulatedFaults? faults = null)
    {
        Time = time ?? TimeProvider.System;
        Folder = Path.Combine(Path.GetTempPath(), "rehome-agent-tests", Guid.NewGuid().ToString("N"));
        DeviceFolder = Path.Combine(Folder, "device");
        SimulatedDeviceBuilder.Create(DeviceFolder, new SimulatedDeviceSpec
        {
            DeviceName = "CTS-PC00001",
            DomainName = "contoso.example",
            Users = [new SimulatedUser("user00001", UserSid), new SimulatedUser("user00002", FakeGateway.SourceDomainSid + "-10002")],
            LoggedOn = loggedOn,
            FilesPerUser = 2,
            Faults = faults ?? new SimulatedFaults(),
        });
        Assignment = new JobAssignment
        {
            JobId = Guid.NewGuid(),
            RunId = Guid.NewGuid(),
            LeaseToken = Guid.NewGuid(),
            Kind = AgentJobKind.MigrateUserProfile,
            LeaseSeconds = 60,
            Mapping = new MappingTarget("CTS-PC00001", "FAB-PC00001", null, @"CONTOSO\user00001", "user00001@fabrikam.example"),
            Policy = new JobPolicy(),
            DryRun = dryRun,
        };
        JobJournal.Create(JobsFolder, Assignment, Time.GetUtcNow());
    }

    public string Folder { get; }

    public string DeviceFolder { get; }

    public string JobsFolder => Path.Combine(Folder, "jobs");

    public TimeProvider Time { get; }

    public JobAssignment Assignment { get; }

    public FakeGateway Gateway { get; } = new();

    public JobJournal Journal => JobJournal.Open(JobsFolder, Assignment.JobId)!;

    public SimulatedDevicePlatform Platform => new(DeviceFolder, new NetworkGate(), Time);

    public async Task<CompletionReport> RunAsync()
    {
        Assert.Equal(JobOutcome.Completed, await StartAsync().WaitAsync(TimeSpan.FromSeconds(30)));
        return Assert.Single(Gateway.Completions);
    }

    /// <summary>Runs the job through the real runner with <paramref name="session"/> (the device's own by default).</summary>
    public Task<JobOutcome> StartAsync(IUserSession? session = null)
    {
        var platform = Platform;
        var runner = new JobRunner(platform, session ?? platform.Session, Client(), platform, platform.ReadFacts("test"), Time);
        return runner.RunAsync(Journal, CancellationToken.None);
    }

    /// <summary>A context on the job's journal, for running its steps one by one.</summary>
    public JobContext Context()
    {
        var platform = Platform;
        var journal = Journal;
        return new JobContext(journal, new JobLog(journal.PathOf("log.jsonl"), Time), platform, platform.Session, Client(), Time, CancellationToken.None);
    }

    /// <summary>Reverts the finished job as a revert of a finished job does: every step's undo, in reverse, against its journal.</summary>
    public async Task RevertAsync()
    {
        var platform = Platform;
        var journal = Journal;
        var context = new JobContext(journal, new JobLog(journal.PathOf("revert.jsonl"), Time), platform, platform.Session, Client(), Time, CancellationToken.None);
        foreach (var step in JobPlans.For(AgentJobKind.MigrateUserProfile, platform.ReadFacts("test")).Steps.Reverse())
        {
            await step.UndoAsync(context);
        }
    }

    /// <summary>Runs a revert job of the finished job through the real runner, as the server hands one out.</summary>
    public async Task<CompletionReport> RevertJobAsync()
    {
        var revert = Assignment with { JobId = Guid.NewGuid(), RunId = Guid.NewGuid(), LeaseToken = Guid.NewGuid(), RevertOf = Assignment.JobId, DryRun = false };
        var platform = Platform;
        var runner = new JobRunner(platform, platform.Session, Client(), platform, platform.ReadFacts("test"), Time);
        Assert.Equal(JobOutcome.Completed, await runner.RunAsync(JobJournal.Create(JobsFolder, revert, Time.GetUtcNow()), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30)));
        return Gateway.Completions.Last();
    }

    public string Log => File.ReadAllText(Journal.PathOf("log.jsonl"));

    /// <summary>Every descriptor of the profile's folder and of its hive files, and every ProfileList entry, as bytes.</summary>
    public Dictionary<string, byte[]> Snapshot()
    {
        var platform = Platform;
        var snapshot = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var pending = new Stack<string>([Home]);
        while (pending.Count > 0)
        {
            var path = pending.Pop();
            snapshot[path] = platform.Store.ReadDescriptor(path);
            foreach (var child in platform.Store.EnumerateChildren(path))
            {
                pending.Push(child);
            }
        }
        foreach (var file in new[] { $@"{Home}\{UserHives.UserHiveFile}", $@"{Home}\{UserHives.ClassesHiveFile}" })
        {
            foreach (var (key, descriptor) in platform.Profiles.HiveCalls.Read(file).Keys)
            {
                snapshot[$"{file}::{key}"] = descriptor;
            }
        }
        foreach (var entry in platform.Profiles.Entries())
        {
            foreach (var value in entry.Values)
            {
                snapshot[$"ProfileList\\{entry.KeyName}::{value.Name}:{value.Type}"] = value.Data;
            }
        }
        return snapshot;
    }

    private GatewayClient Client()
    {
        var client = new GatewayClient(new HttpClient(Gateway, disposeHandler: false) { BaseAddress = new Uri("http://rehome.test") });
        client.UseCredential("rha_test.secret");
        return client;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // Left for the temp folder's clean-up.
        }
    }
}

public sealed class ProfileJobTests
{
    [Theory]
    [InlineData(null)]
    [InlineData(60)]
    public async Task Every_item_result_reaches_the_server_before_the_completion_at_any_pace(int? reportSeconds)
    {
        // A busy server asks for a report a minute: the whole job runs inside one wait, and the item results of its
        // steps go up before the completion, not with a report that never comes.
        using var device = new ProfileDevice();
        device.Gateway.ReportSeconds = reportSeconds;

        var completion = await device.RunAsync();

        Assert.Equal(CompletionStatus.Finished, completion.Status);
        Assert.Contains(device.Gateway.ReportedItems, i => i.Item.StartsWith("ProfileList: ", StringComparison.Ordinal));
        var calls = device.Gateway.Calls.ToList();
        Assert.True(calls.IndexOf("complete") > calls.LastIndexOf("progress"), string.Join(", ", calls));
        if (reportSeconds is not null)
        {
            // The first report, then the one that carries what is left: no report at each step.
            Assert.Equal(2, calls.Count(c => c == "progress"));
        }
    }

    [Fact]
    public async Task The_profile_job_hands_over_the_folder_the_hives_and_the_whole_profile_list_entry_to_the_destination_account()
    {
        using var device = new ProfileDevice();
        var before = device.Platform.Profiles.Entries().Single(e => e.KeyName == ProfileDevice.UserSid);

        var completion = await device.RunAsync();

        Assert.Equal(CompletionStatus.Finished, completion.Status);
        var profiles = device.Platform.Profiles;
        Assert.Null(await profiles.GetEntryAsync(ProfileDevice.UserSid, CancellationToken.None));
        var after = (await profiles.GetEntryAsync(ProfileDevice.DestinationSid, CancellationToken.None))!;
        Assert.Equal(before.Values.Select(v => v.Name), after.Values.Select(v => v.Name));
        Assert.All(before.Values.Where(v => v.Name != "Sid"), v => Assert.True(v.SameAs(after.Value(v.Name)!), v.Name));
        Assert.Equal(Security.Sids.SecurityIdentifier.Parse(ProfileDevice.DestinationSid).ToArray(), after.Value("Sid")!.Data);
        // The folder and both hives now belong to the destination account, and the hives are unloaded again.
        Assert.Equal(ProfileDevice.DestinationSid, SecurityDescriptor.FromBinary(device.Platform.Store.ReadDescriptor($@"{ProfileDevice.Home}\Documents")).Owner!.ToString());
        var userHive = profiles.HiveCalls.Read($@"{ProfileDevice.Home}\{UserHives.UserHiveFile}");
        var classesHive = profiles.HiveCalls.Read($@"{ProfileDevice.Home}\{UserHives.ClassesHiveFile}");
        Assert.Equal(ProfileDevice.DestinationSid, SecurityDescriptor.FromBinary(userHive.Keys[@"Software\Contoso"]).Owner!.ToString());
        Assert.Equal(ProfileDevice.DestinationSid, SecurityDescriptor.FromBinary(classesHive.Keys[""]).Owner!.ToString());
        Assert.Empty(profiles.HiveCalls.Loaded());
        // The colleague's profile is not touched.
        Assert.NotNull(await profiles.GetEntryAsync(FakeGateway.SourceDomainSid + "-10002", CancellationToken.None));
        Assert.Equal(FakeGateway.SourceDomainSid + "-10002",
            SecurityDescriptor.FromBinary(profiles.HiveCalls.Read($@"C:\Users\user00002\{UserHives.UserHiveFile}").Keys[""]).Owner!.ToString());
        // AppX packages are re-registered for the new account at its first sign-in.
        var runOnce = userHive.Values[AppxReregistration.RunOnceKey].Single(v => v.Name == AppxReregistration.ValueName).AsString();
        Assert.Equal(AppxReregistration.Command, runOnce);
        // RunOnce runs command lines of at most 260 characters: what the agent wrote must fit.
        Assert.InRange(runOnce!.Length, 1, 260);
        // Each area reports its own counts.
        Assert.Equal([ReaclArea.Files, ReaclArea.UserHives, ReaclArea.ProfileList], completion.Areas.Select(a => a.Area));
        Assert.All(completion.Areas, a => Assert.True(a.Changed > 0 && a.Failed == 0, a.ToString()));
    }

    [Fact]
    public async Task The_report_says_what_windows_cannot_carry_over_and_what_the_agent_did_about_each()
    {
        using var device = new ProfileDevice();

        await device.RunAsync();

        var log = device.Log;
        Assert.Contains("1 DPAPI master key(s) and 1 saved credential(s)", log, StringComparison.Ordinal);
        Assert.Contains("Windows Hello", log, StringComparison.Ordinal);
        Assert.Contains("2 AppX package registration(s)", log, StringComparison.Ordinal);
        Assert.Contains($"The agent added a RunOnce entry ({AppxReregistration.ValueName})", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reverting_the_finished_job_restores_the_profile_list_entry_the_folder_and_the_hives_byte_for_byte()
    {
        using var device = new ProfileDevice();
        var before = device.Snapshot();
        await device.RunAsync();
        Assert.NotEqual(before[ProfileDevice.Home], device.Snapshot()[ProfileDevice.Home]);

        await device.RevertAsync();

        var after = device.Snapshot();
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        Assert.All(before, item => Assert.True(item.Value.AsSpan().SequenceEqual(after[item.Key]), item.Key));
        var userHive = device.Platform.Profiles.HiveCalls.Read($@"{ProfileDevice.Home}\{UserHives.UserHiveFile}");
        Assert.DoesNotContain(userHive.Values.GetValueOrDefault(AppxReregistration.RunOnceKey) ?? [], v => v.Name == AppxReregistration.ValueName);
        Assert.Empty(device.Platform.Profiles.HiveCalls.Loaded());
    }

    [Fact]
    public async Task A_revert_job_reports_what_it_restored_in_each_area_and_leaves_no_session_locked_or_unlocked_by_it()
    {
        using var device = new ProfileDevice();
        var before = device.Snapshot();
        var done = await device.RunAsync();

        var revert = await device.RevertJobAsync();

        Assert.Equal(CompletionStatus.Finished, revert.Status);
        var restored = revert.Areas.ToDictionary(a => a.Area);
        Assert.Equal([ReaclArea.Files, ReaclArea.UserHives, ReaclArea.ProfileList], restored.Keys.Order());
        Assert.Equal(done.Areas.Single(a => a.Area == ReaclArea.Files).Changed, restored[ReaclArea.Files].Changed);
        Assert.All(restored.Values, a => Assert.Equal((0, (string?)null), (a.Failed, a.Problem)));
        var after = device.Snapshot();
        Assert.All(before, item => Assert.True(item.Value.AsSpan().SequenceEqual(after[item.Key]), item.Key));
        Assert.False(device.Platform.State.Locked);
    }

    [Fact]
    public async Task A_revert_job_is_refused_while_the_destination_account_is_signed_in_and_changes_nothing()
    {
        using var device = new ProfileDevice();
        await device.RunAsync();
        device.Platform.Profiles.HiveCalls.SignIn(ProfileDevice.DestinationSid, ProfileDevice.Home);
        var handedOver = device.Snapshot();

        var revert = await device.RevertJobAsync();

        Assert.Equal(CompletionStatus.Failed, revert.Status);
        Assert.Equal("ProfileInUse", revert.ErrorCode);
        var after = device.Snapshot();
        Assert.All(handedOver, item => Assert.True(item.Value.AsSpan().SequenceEqual(after[item.Key]), item.Key));
    }

    [Fact]
    public async Task A_revert_after_the_destination_account_signed_in_restores_its_hives_where_windows_loaded_them()
    {
        using var device = new ProfileDevice();
        var before = device.Snapshot();
        await device.RunAsync();
        device.Platform.Profiles.HiveCalls.SignIn(ProfileDevice.DestinationSid, ProfileDevice.Home);

        await device.RevertAsync();

        var after = device.Snapshot();
        Assert.All(before.Where(i => i.Key.Contains("::", StringComparison.Ordinal)), item => Assert.True(item.Value.AsSpan().SequenceEqual(after[item.Key]), item.Key));
        // Still loaded by its signed-in user: the revert never unloads a hive it did not load.
        Assert.NotNull(device.Platform.Profiles.HiveCalls.Find(ProfileDevice.DestinationSid));
    }

    [Fact]
    public async Task The_job_waits_while_the_owner_is_signed_in_and_refuses_with_profile_in_use_when_the_owner_stays()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 28, 9, 0, 0, TimeSpan.Zero));
        using var device = new ProfileDevice(loggedOn: true, time);
        var context = device.Context();
        await new FindProfileStep().RunAsync(context);

        var waiting = new WaitForSignOutStep().RunAsync(context);
        await AdvanceWhileAsync(time, waiting, TimeSpan.FromMinutes(29));
        Assert.False(waiting.IsCompleted);
        await AdvanceWhileAsync(time, waiting, TimeSpan.FromMinutes(5));

        var refusal = await Assert.ThrowsAsync<StepFailedException>(() => waiting);
        Assert.Equal("ProfileInUse", refusal.Code);
        Assert.Contains("Please sign out", device.Platform.State.Notifications.Last(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_signed_in_owner_who_signs_out_when_asked_gets_the_profile_handed_over_and_cannot_sign_back_in_meanwhile()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 28, 9, 0, 0, TimeSpan.Zero));
        using var device = new ProfileDevice(loggedOn: true, time);
        var owner = new ObligingOwner(device);

        var running = device.StartAsync(owner);
        await AdvanceWhileAsync(time, running, TimeSpan.FromMinutes(40));

        Assert.Equal(JobOutcome.Completed, await running.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(CompletionStatus.Finished, Assert.Single(device.Gateway.Completions).Status);
        Assert.True(owner.SignedOut, "The owner was asked to sign out while the session could still be signed out of.");
        Assert.True(owner.SignInBlockedAfterSigningOut, "Sign-in was blocked once the owner signed out, for the hand-over.");
        Assert.False(device.Platform.Session.IsLocked);
    }

    [Fact]
    public async Task The_profile_list_is_not_handed_over_when_the_owners_user_hive_cannot_be_loaded()
    {
        using var device = new ProfileDevice();
        // Another tool holds NTUSER.DAT loaded: the job cannot load it to re-ACL it.
        device.Platform.Profiles.HiveCalls.Load("OtherTool", $@"{ProfileDevice.Home}\{UserHives.UserHiveFile}");

        await AssertNotHandedOverAsync(device);
    }

    [Fact]
    public async Task The_profile_list_is_not_handed_over_while_a_hive_of_the_profile_stays_loaded()
    {
        using var device = new ProfileDevice();
        // Left loaded by an interrupted job, with a handle that never closes: the job walks it but cannot unload it.
        var hives = device.Platform.Profiles.HiveCalls;
        hives.Load(UserHives.TemporaryPrefix + ProfileDevice.UserSid, $@"{ProfileDevice.Home}\{UserHives.UserHiveFile}");
        hives.HoldHandles(UserHives.TemporaryPrefix + ProfileDevice.UserSid, 1000);

        await AssertNotHandedOverAsync(device);
    }

    [Fact]
    public async Task A_dry_run_with_the_owner_signed_in_counts_without_prompting_locking_or_waiting_and_changes_nothing()
    {
        using var device = new ProfileDevice(loggedOn: true, dryRun: true);
        var before = device.Snapshot();

        var completion = await device.RunAsync();

        Assert.Equal(CompletionStatus.Finished, completion.Status);
        Assert.Equal([ReaclArea.Files, ReaclArea.UserHives, ReaclArea.ProfileList], completion.Areas.Select(a => a.Area));
        Assert.Equal(0, device.Platform.State.PromptsShown);
        Assert.Empty(device.Platform.State.Notifications);
        Assert.Null(device.Platform.State.LockNotice);
        var after = device.Snapshot();
        Assert.All(before, item => Assert.True(item.Value.AsSpan().SequenceEqual(after[item.Key]), item.Key));
    }

    [Fact]
    public async Task The_job_goes_on_as_soon_as_the_owner_signs_out()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 28, 9, 0, 0, TimeSpan.Zero));
        using var device = new ProfileDevice(loggedOn: true, time);
        var context = device.Context();
        await new FindProfileStep().RunAsync(context);

        var waiting = new WaitForSignOutStep().RunAsync(context);
        await AdvanceWhileAsync(time, waiting, TimeSpan.FromMinutes(3));
        device.Platform.Profiles.HiveCalls.SignOut(ProfileDevice.UserSid);
        await AdvanceWhileAsync(time, waiting, TimeSpan.FromMinutes(1));

        await waiting.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task The_profile_is_found_by_the_owners_sid_not_by_a_folder_of_the_same_name()
    {
        using var device = new ProfileDevice();
        var profiles = device.Platform.Profiles;
        // Another account's profile took the folder name the user's would have; the user's own profile is elsewhere.
        await profiles.WriteEntryAsync(SimulatedProfiles.NewEntry(FakeGateway.SourceDomainSid + "-10002", @"C:\Users\user00001"), CancellationToken.None);
        await profiles.WriteEntryAsync(SimulatedProfiles.NewEntry(ProfileDevice.UserSid, @"C:\Users\user00001.CONTOSO"), CancellationToken.None);
        var context = device.Context();

        await new FindProfileStep().RunAsync(context);

        Assert.Equal(new UserProfile(ProfileDevice.UserSid, @"C:\Users\user00001.CONTOSO"), ProfileJournal.SourceOf(context));
    }

    /// <summary>The profile's owner: signs out when asked to, which a locked session does not let them do.</summary>
    private sealed class ObligingOwner(ProfileDevice device) : IUserSession
    {
        private readonly IUserSession session = device.Platform.Session;

        public bool SignedOut { get; private set; }

        public bool SignInBlockedAfterSigningOut { get; private set; }

        public IReadOnlyList<string> LoggedOnUsers => session.LoggedOnUsers;

        public bool IsLocked => session.IsLocked;

        public async Task NotifyAsync(string message, CancellationToken ct)
        {
            await session.NotifyAsync(message, ct);
            if (message.Contains("sign out", StringComparison.OrdinalIgnoreCase) && !device.Platform.State.Locked)
            {
                device.Platform.Profiles.HiveCalls.SignOut(ProfileDevice.UserSid);
                new SimulatedDeviceStateFile(device.DeviceFolder).Change(s => s with { LoggedOnUsers = [] });
                SignedOut = true;
            }
        }

        public Task<PromptAnswer> AskToStartAsync(string message, bool snoozeAllowed, TimeSpan timeout, CancellationToken ct) =>
            session.AskToStartAsync(message, snoozeAllowed, timeout, ct);

        public async Task LockAsync(string reason, CancellationToken ct)
        {
            await session.LockAsync(reason, ct);
            SignInBlockedAfterSigningOut |= SignedOut;
        }

        public Task UnlockAsync(CancellationToken ct) => session.UnlockAsync(ct);

        public Task<CredentialCaching> CacheCredentialsAsync(string destinationUser, CancellationToken ct) => session.CacheCredentialsAsync(destinationUser, ct);
    }

    /// <summary>The job stops before the hand-over: the source account keeps its ProfileList entry, the destination gets none.</summary>
    private static async Task AssertNotHandedOverAsync(ProfileDevice device)
    {
        var completion = await device.RunAsync();

        Assert.Equal(CompletionStatus.Failed, completion.Status);
        Assert.True(completion.ErrorCode == "ProfileHiveNotMigrated", completion.ErrorMessage);
        Assert.NotNull(await device.Platform.Profiles.GetEntryAsync(ProfileDevice.UserSid, CancellationToken.None));
        Assert.Null(await device.Platform.Profiles.GetEntryAsync(ProfileDevice.DestinationSid, CancellationToken.None));
    }

    private static async Task AdvanceWhileAsync(FakeTimeProvider time, Task running, TimeSpan span)
    {
        for (var passed = TimeSpan.Zero; passed < span && !running.IsCompleted; passed += TimeSpan.FromSeconds(15))
        {
            await Task.Yield();
            await Task.Delay(1);
            time.Advance(TimeSpan.FromSeconds(15));
        }
    }
}
