using Rehome.Core.Connections;
using Rehome.Core.Runs;

namespace Rehome.Core.Tests.Runs;

/// <summary>A run item stands for exactly the jobs the planner made for its mapping, or the mapping is written as rows.</summary>
public class RunItemsTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 9, 0, 0, TimeSpan.Zero);

    private static readonly ProjectFacts EntraOffline = new(
        SourceEntraIdEnabled: true, ConnectionKind.EntraId, RejoinMethod.Offline, DestinationNeedsPreparation: false);

    private static readonly ProjectFacts AdOffline = new(
        SourceEntraIdEnabled: false, ConnectionKind.ActiveDirectory, RejoinMethod.Offline, DestinationNeedsPreparation: true);

    private static RunPlan Plan(ProjectFacts project, JobKind[] kinds, bool rejoined, bool users, DateTimeOffset? startAt = null)
    {
        var mappings = Enumerable.Range(0, 3).Select(i => new MappingFacts(Guid.NewGuid(), $"PC{i}", users, rejoined, new HashSet<JobKind>())).ToList();
        return RunPlanner.Plan(new RunRequest(mappings.Select(m => m.Id).ToList(), kinds, startAt), project, mappings.ToDictionary(m => m.Id), Now);
    }

    public static TheoryData<JobKind[], bool, bool, bool> Plans() => new()
    {
        { JobKinds.All.ToArray(), false, true, false },
        { JobKinds.All.ToArray(), false, true, true },
        { [JobKind.MigratePermissions, JobKind.MigrateUserProfile], true, true, false },
        // The profile job is refused (no users): the item holds the other kinds only.
        { [JobKind.RejoinDomain, JobKind.MigrateUserProfile, JobKind.RegisterAutopilot], false, false, false },
        { [JobKind.MigrateEntraIdGroups], false, true, true },
    };

    [Theory]
    [MemberData(nameof(Plans))]
    public void An_item_derives_the_jobs_the_planner_made(JobKind[] kinds, bool rejoined, bool users, bool scheduled)
    {
        var plan = Plan(EntraOffline, kinds, rejoined, users, scheduled ? Now.AddHours(2) : null);

        Assert.NotEmpty(plan.Jobs);
        foreach (var mapping in plan.Jobs.GroupBy(j => j.MappingId))
        {
            var item = RunItems.FromPlanned(mapping.ToList(), Guid.NewGuid(), Guid.NewGuid(), plan.Scheduled, false, Now);
            Assert.NotNull(item);
            Assert.Equal(mapping.OrderBy(j => j.Kind), RunItems.Jobs(item));
            Assert.All(mapping, j => Assert.Equal(item.Id, RunItems.ItemOf(j.Id)));
        }
    }

    [Fact]
    public void A_rejoin_that_needs_its_destination_prepared_is_written_as_rows()
    {
        var plan = Plan(AdOffline, [JobKind.RejoinDomain, JobKind.MigratePermissions], rejoined: false, users: true);

        Assert.All(plan.Jobs.GroupBy(j => j.MappingId), m => Assert.Null(RunItems.FromPlanned(m.ToList(), Guid.NewGuid(), Guid.NewGuid(), false, false, Now)));
    }

    [Fact]
    public void Jobs_of_different_mappings_never_share_an_item_and_ids_increase()
    {
        var plan = Plan(EntraOffline, JobKinds.All.ToArray(), rejoined: false, users: true);

        Assert.Equal(3, plan.Jobs.Select(j => RunItems.ItemOf(j.Id)).Distinct().Count());
        Assert.Equal(plan.Jobs.Select(j => j.Id), plan.Jobs.Select(j => j.Id).Order());
    }
}
