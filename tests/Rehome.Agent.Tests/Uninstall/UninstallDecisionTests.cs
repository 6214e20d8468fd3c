using Rehome.Agent.Journal;
using Rehome.Agent.Uninstall;
using Rehome.Protocol;

namespace Rehome.Agent.Tests.Uninstall;

public sealed class UninstallDecisionTests
{
    private static JournalRecord Journal(JournalPhase phase, string? step = null) => new()
    {
        Assignment = new JobAssignment
        {
            JobId = Guid.NewGuid(),
            RunId = Guid.NewGuid(),
            LeaseToken = Guid.NewGuid(),
            Kind = AgentJobKind.RejoinDomain,
            LeaseSeconds = 60,
            Mapping = new MappingTarget("CTS-PC00001", "FAB-PC00001", null, null, null),
            Policy = new JobPolicy(),
        },
        Phase = phase,
        RunningStep = step,
    };

    [Fact]
    public void An_agent_with_no_journal_open_and_sign_in_free_uninstalls_now()
    {
        Assert.True(UninstallDecision.Decide([], signInBlocked: false).SafeNow);
        Assert.True(UninstallDecision.Decide([Journal(JournalPhase.Closed)], signInBlocked: false).SafeNow);
    }

    [Fact]
    public void A_running_job_is_finished_first_and_the_wait_names_its_step()
    {
        var verdict = UninstallDecision.Decide([Journal(JournalPhase.Running, "JoinDestination")], signInBlocked: false);

        Assert.False(verdict.SafeNow);
        Assert.Contains("JoinDestination", verdict.WaitsFor, StringComparison.Ordinal);
    }

    [Fact]
    public void A_completion_the_server_has_not_taken_yet_is_waited_for()
    {
        var verdict = UninstallDecision.Decide([Journal(JournalPhase.Completing)], signInBlocked: false);

        Assert.False(verdict.SafeNow);
        Assert.Contains("completion", verdict.WaitsFor, StringComparison.Ordinal);
    }

    [Fact]
    public void Sign_in_blocked_by_a_job_is_lifted_before_the_agent_goes()
    {
        Assert.False(UninstallDecision.Decide([], signInBlocked: true).SafeNow);
    }
}
