using Rehome.Core.Connections;
using Rehome.Core.Runs;

namespace Rehome.Core.Tests.Runs;

public class RunPlannerTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 9, 0, 0, TimeSpan.Zero);

    private static readonly ProjectFacts AdOffline = new(
        SourceEntraIdEnabled: false, ConnectionKind.ActiveDirectory, RejoinMethod.Offline, DestinationNeedsPreparation: true);

    private static readonly ProjectFacts EntraOffline = new(
        SourceEntraIdEnabled: true, ConnectionKind.EntraId, RejoinMethod.Offline, DestinationNeedsPreparation: false);

    private static MappingFacts Mapping(string name, bool rejoined = false, bool users = true, params JobKind[] active) =>
        new(Guid.NewGuid(), name, users, rejoined, active.ToHashSet());

    private static RunPlan Plan(ProjectFacts project, IEnumerable<MappingFacts> mappings, JobKind[] kinds, DateTimeOffset? startAt = null)
    {
        var list = mappings.ToList();
        return RunPlanner.Plan(new RunRequest(list.Select(m => m.Id).ToList(), kinds, startAt), project, list.ToDictionary(m => m.Id), Now);
    }

    [Fact]
    public void Rejoin_to_an_Active_Directory_destination_waits_for_the_destination()
    {
        var plan = Plan(AdOffline, [Mapping("PC01")], [JobKind.RejoinDomain]);

        var job = Assert.Single(plan.Jobs);
        Assert.Equal(JobStatus.WaitingForDestination, job.Status);
        Assert.True(job.NeedsDestinationPreparation);
        Assert.Empty(plan.Refusals);
    }

    [Fact]
    public void Rejoin_to_Entra_ID_waits_to_start_at_once()
    {
        var plan = Plan(EntraOffline, [Mapping("PC01")], [JobKind.RejoinDomain]);

        Assert.Equal(JobStatus.WaitingToStart, Assert.Single(plan.Jobs).Status);
    }

    [Fact]
    public void Permissions_job_waits_for_rejoin_in_the_same_run()
    {
        var plan = Plan(AdOffline, [Mapping("PC01")], [JobKind.MigratePermissions, JobKind.RejoinDomain]);

        var rejoin = plan.Jobs.Single(j => j.Kind == JobKind.RejoinDomain);
        var permissions = plan.Jobs.Single(j => j.Kind == JobKind.MigratePermissions);
        Assert.Equal(JobStatus.WaitingForPrerequisite, permissions.Status);
        Assert.Equal(rejoin.Id, permissions.PrerequisiteJobId);
    }

    [Fact]
    public void Permissions_and_profile_are_refused_without_a_finished_rejoin()
    {
        var plan = Plan(AdOffline, [Mapping("PC01")], [JobKind.MigratePermissions, JobKind.MigrateUserProfile]);

        Assert.Empty(plan.Jobs);
        Assert.Equal(2, plan.Refusals.Count);
        Assert.All(plan.Refusals, r =>
        {
            Assert.Equal(RunRules.RejoinRequired, r.Rule);
            Assert.Equal("PC01", r.SourceDevice);
            Assert.Contains("Rejoin domain first", r.Message, StringComparison.Ordinal);
        });
    }

    [Fact]
    public void Permissions_after_a_finished_rejoin_start_at_once()
    {
        var plan = Plan(AdOffline, [Mapping("PC01", rejoined: true)], [JobKind.MigratePermissions]);

        var job = Assert.Single(plan.Jobs);
        Assert.Equal(JobStatus.WaitingToStart, job.Status);
        Assert.Null(job.PrerequisiteJobId);
    }

    [Fact]
    public void Permissions_refusal_says_when_the_rejoin_is_under_way_in_another_run()
    {
        var plan = Plan(AdOffline, [Mapping("PC01", active: JobKind.RejoinDomain)], [JobKind.MigratePermissions]);

        var refusal = Assert.Single(plan.Refusals);
        Assert.Equal(RunRules.RejoinRequired, refusal.Rule);
        Assert.Contains("under way in another run", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Permissions_wait_for_a_new_rejoin_in_the_same_run_even_after_an_earlier_rejoin()
    {
        var plan = Plan(AdOffline, [Mapping("PC01", rejoined: true)], [JobKind.RejoinDomain, JobKind.MigratePermissions]);

        var permissions = plan.Jobs.Single(j => j.Kind == JobKind.MigratePermissions);
        Assert.Equal(JobStatus.WaitingForPrerequisite, permissions.Status);
        Assert.Equal(plan.Jobs.Single(j => j.Kind == JobKind.RejoinDomain).Id, permissions.PrerequisiteJobId);
    }

    [Fact]
    public void Permissions_are_refused_while_a_rejoin_is_under_way_elsewhere_even_after_an_earlier_rejoin()
    {
        var plan = Plan(AdOffline, [Mapping("PC01", rejoined: true, active: JobKind.RejoinDomain)], [JobKind.MigratePermissions]);

        Assert.Equal(RunRules.RejoinRequired, Assert.Single(plan.Refusals).Rule);
    }

    [Fact]
    public void Entra_ID_groups_are_refused_when_the_source_Entra_ID_part_is_disabled()
    {
        var plan = Plan(AdOffline, [Mapping("PC01")], [JobKind.MigrateEntraIdGroups]);

        var refusal = Assert.Single(plan.Refusals);
        Assert.Equal(RunRules.SourceEntraIdDisabled, refusal.Rule);
        Assert.Equal(JobKind.MigrateEntraIdGroups, refusal.Kind);
        Assert.Contains("source connection", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Entra_ID_groups_start_when_the_source_Entra_ID_part_is_enabled()
    {
        var plan = Plan(EntraOffline, [Mapping("PC01")], [JobKind.MigrateEntraIdGroups]);

        Assert.Equal(JobStatus.WaitingToStart, Assert.Single(plan.Jobs).Status);
    }

    [Theory]
    [InlineData(ConnectionKind.ActiveDirectory, RejoinMethod.Offline)]
    [InlineData(ConnectionKind.HybridIdentity, RejoinMethod.Online)]
    [InlineData(ConnectionKind.EntraId, RejoinMethod.Online)]
    public void Autopilot_is_refused_unless_the_destination_is_Entra_ID_offline(ConnectionKind kind, RejoinMethod method)
    {
        var plan = Plan(new ProjectFacts(true, kind, method, false), [Mapping("PC01")], [JobKind.RegisterAutopilot]);

        Assert.Equal(RunRules.AutopilotNeedsEntraIdOffline, Assert.Single(plan.Refusals).Rule);
        Assert.Empty(plan.Jobs);
    }

    [Fact]
    public void A_rejoin_to_Entra_ID_online_is_refused_with_what_to_do()
    {
        var plan = Plan(new ProjectFacts(true, ConnectionKind.EntraId, RejoinMethod.Online, false), [Mapping("PC01")], [JobKind.RejoinDomain]);

        var refusal = Assert.Single(plan.Refusals);
        Assert.Equal(RunRules.EntraIdOnlineRejoinNotSupported, refusal.Rule);
        Assert.Contains("bulk enrollment package", refusal.Message, StringComparison.Ordinal);
        Assert.Empty(plan.Jobs);
    }

    [Fact]
    public void Autopilot_starts_for_an_Entra_ID_offline_destination()
    {
        var plan = Plan(EntraOffline, [Mapping("PC01")], [JobKind.RegisterAutopilot]);

        Assert.Single(plan.Jobs);
    }

    [Fact]
    public void A_job_of_the_same_kind_already_active_is_refused_but_others_start()
    {
        var busy = Mapping("PC01", rejoined: true, users: true, JobKind.MigratePermissions);
        var plan = Plan(AdOffline, [busy], [JobKind.MigratePermissions, JobKind.MigrateUserProfile]);

        var refusal = Assert.Single(plan.Refusals);
        Assert.Equal(RunRules.JobAlreadyActive, refusal.Rule);
        Assert.Equal(JobKind.MigratePermissions, refusal.Kind);
        Assert.Equal(JobKind.MigrateUserProfile, Assert.Single(plan.Jobs).Kind);
    }

    [Fact]
    public void Profile_is_refused_without_primary_and_destination_users()
    {
        var plan = Plan(AdOffline, [Mapping("PC01", rejoined: true, users: false)], [JobKind.MigrateUserProfile]);

        Assert.Equal(RunRules.ProfileNeedsUsers, Assert.Single(plan.Refusals).Rule);
    }

    [Fact]
    public void A_refused_rejoin_makes_its_dependents_refused_too()
    {
        var plan = Plan(AdOffline, [Mapping("PC01", active: JobKind.RejoinDomain)], [JobKind.RejoinDomain, JobKind.MigratePermissions]);

        Assert.Empty(plan.Jobs);
        Assert.Equal([RunRules.JobAlreadyActive, RunRules.RejoinRequired], plan.Refusals.Select(r => r.Rule));
    }

    [Fact]
    public void A_run_in_the_future_is_scheduled()
    {
        var plan = Plan(AdOffline, [Mapping("PC01")], [JobKind.RejoinDomain, JobKind.MigratePermissions], Now.AddHours(2));

        Assert.True(plan.Scheduled);
        Assert.Equal(Now.AddHours(2), plan.StartAt);
        Assert.All(plan.Jobs, j => Assert.Equal(JobStatus.Scheduled, j.Status));
        Assert.NotNull(plan.Jobs.Single(j => j.Kind == JobKind.MigratePermissions).PrerequisiteJobId);
    }

    [Fact]
    public void A_start_time_in_the_past_starts_now()
    {
        var plan = Plan(EntraOffline, [Mapping("PC01")], [JobKind.RejoinDomain], Now.AddHours(-1));

        Assert.False(plan.Scheduled);
        Assert.Equal(Now, plan.StartAt);
    }

    [Fact]
    public void Fifty_thousand_mappings_are_accepted_and_one_more_is_refused_with_advice_to_split()
    {
        var fifty = Enumerable.Range(0, RunRules.MaxMappingsPerRun).Select(i => Mapping($"PC{i}")).ToList();
        var accepted = Plan(EntraOffline, fifty, [JobKind.RejoinDomain]);
        Assert.Null(accepted.RunRefused);
        Assert.Equal(RunRules.MaxMappingsPerRun, accepted.Jobs.Count);

        var refused = Plan(EntraOffline, fifty.Append(Mapping("ONE-MORE")), [JobKind.RejoinDomain]);
        Assert.Equal(RunRules.RunTooLarge, refused.RunRefused?.Rule);
        Assert.Contains("Split", refused.RunRefused!.Message, StringComparison.Ordinal);
        Assert.Empty(refused.Jobs);
    }

    [Fact]
    public void A_run_without_kinds_or_mappings_is_refused()
    {
        Assert.Equal(RunRules.NoJobKinds, Plan(AdOffline, [Mapping("PC01")], []).RunRefused?.Rule);
        Assert.Equal(RunRules.NoMappings, Plan(AdOffline, [], [JobKind.RejoinDomain]).RunRefused?.Rule);
        Assert.Equal(RunRules.UnknownJobKind, Plan(AdOffline, [Mapping("PC01")], [(JobKind)0]).RunRefused?.Rule);
    }

    [Fact]
    public void A_mapping_outside_the_project_is_refused_by_id()
    {
        var stranger = Guid.NewGuid();
        var plan = RunPlanner.Plan(new RunRequest([stranger], [JobKind.RejoinDomain], null), AdOffline, new Dictionary<Guid, MappingFacts>(), Now);

        var refusal = Assert.Single(plan.Refusals);
        Assert.Equal(RunRules.MappingNotInProject, refusal.Rule);
        Assert.Equal(stranger, refusal.MappingId);
    }

    [Fact]
    public void Duplicate_ids_and_kinds_in_a_request_count_once()
    {
        var mapping = Mapping("PC01");
        var plan = RunPlanner.Plan(new RunRequest([mapping.Id, mapping.Id], [JobKind.RejoinDomain, JobKind.RejoinDomain], null),
            AdOffline, new Dictionary<Guid, MappingFacts> { [mapping.Id] = mapping }, Now);

        Assert.Single(plan.Jobs);
    }
}

public class SequentialIdsTests
{
    [Fact]
    public void Ids_of_a_batch_increase_in_byte_and_text_order_and_are_version_7()
    {
        var ids = new SequentialIds(new DateTimeOffset(2026, 11, 28, 9, 0, 0, TimeSpan.Zero));
        var batch = Enumerable.Range(0, 1000).Select(_ => ids.Next()).ToList();

        Assert.Equal(batch.Select(g => g.ToString()).Order(StringComparer.Ordinal), batch.Select(g => g.ToString()));
        Assert.Equal(1000, batch.Distinct().Count());
        Assert.All(batch, g => Assert.Equal(7, g.Version));
        Assert.All(batch, g => Assert.Equal(0b10, g.Variant >> 2));
    }

    [Fact]
    public void The_timestamp_leads_so_later_batches_sort_after_earlier_ones()
    {
        var time = new DateTimeOffset(2026, 11, 28, 9, 0, 0, TimeSpan.Zero);
        var earlier = new SequentialIds(time).Next();
        var later = new SequentialIds(time.AddMilliseconds(1)).Next();

        Assert.True(string.CompareOrdinal(earlier.ToString(), later.ToString()) < 0);
        // The same 48-bit millisecond timestamp as .NET's own version 7 GUIDs.
        Assert.Equal(Guid.CreateVersion7(time).ToString()[..13], earlier.ToString()[..13]);
    }
}
