using Microsoft.Extensions.Time.Testing;
using Rehome.Server.Runs;

namespace Rehome.Server.Tests.Runs;

/// <summary>
/// What keeps a lease from lapsing while its renewal waits: a renewal from the lease's holder that arrived before the
/// lease ran out, counted until every such call left.
/// </summary>
public sealed class RenewalsWaitingTests
{
    private readonly FakeTimeProvider time = new(new DateTimeOffset(2026, 12, 8, 1, 0, 0, TimeSpan.Zero));

    [Fact]
    public void A_renewal_holds_its_job_for_its_agent_only_until_every_renewal_of_it_has_left_however_often_each_leaves()
    {
        var renewals = new RenewalsWaiting(time);
        var (job, agent, leaseEnd) = (Guid.NewGuid(), Guid.NewGuid(), time.GetUtcNow().AddMinutes(1));

        var report = renewals.Arrived(job, agent);
        var completion = renewals.Arrived(job, agent);
        var (held, byAnother, byNobody, count) = (renewals.Holds(job, agent, leaseEnd), renewals.Holds(job, Guid.NewGuid(), leaseEnd), renewals.Holds(job, null, leaseEnd), renewals.Count);
        report.Dispose();
        report.Dispose();
        var afterOne = (renewals.Holds(job, agent, leaseEnd), renewals.Count);
        completion.Dispose();

        Assert.Equal((true, false, false, 2), (held, byAnother, byNobody, count));
        Assert.Equal((true, 1), afterOne);
        Assert.Equal((false, 0), (renewals.Holds(job, agent, leaseEnd), renewals.Count));
    }

    [Fact]
    public void Only_a_renewal_that_arrived_before_the_lease_ran_out_holds_it_so_one_call_holds_a_lapse_off_for_its_own_stay_at_most()
    {
        var renewals = new RenewalsWaiting(time);
        var (job, agent) = (Guid.NewGuid(), Guid.NewGuid());
        var leaseEnd = time.GetUtcNow().AddSeconds(30);

        using var inTime = renewals.Arrived(job, agent);
        time.Advance(TimeSpan.FromMinutes(1));
        using var late = renewals.Arrived(job, agent);
        var whileBoth = renewals.Holds(job, agent, leaseEnd);
        inTime.Dispose();

        Assert.True(whileBoth);
        // Calls sent after the lease's end, one after another, never keep it.
        Assert.False(renewals.Holds(job, agent, leaseEnd));
        Assert.True(renewals.Holds(job, agent, time.GetUtcNow()));
    }
}
