using Rehome.Core.Agents;

namespace Rehome.Core.Tests.Agents;

public sealed class UninstallRulesTests
{
    private static DeviceAgent Agent() => new() { DeviceName = "PC-001", DeviceKey = "PC-001", CredentialHash = "x" };

    [Fact]
    public void An_active_agent_may_be_told_to_uninstall_and_told_again()
    {
        Assert.Null(UninstallRules.CheckRequest(Agent()));
        Assert.Null(UninstallRules.CheckRequest(new DeviceAgent { DeviceName = "PC-001", DeviceKey = "PC-001", CredentialHash = "x", UninstallRequestedAt = DateTimeOffset.UnixEpoch }));
    }

    [Fact]
    public void A_revoked_agent_cannot_hear_it_and_is_refused()
    {
        var agent = Agent();
        agent.RevokedAt = DateTimeOffset.UnixEpoch;

        Assert.Equal(UninstallRules.AgentRevoked, UninstallRules.CheckRequest(agent)?.Rule);
    }

    [Fact]
    public void An_uninstalled_agent_is_refused_as_uninstalled_not_as_revoked()
    {
        var agent = Agent();
        agent.RevokedAt = agent.UninstalledAt = DateTimeOffset.UnixEpoch;

        Assert.Equal(UninstallRules.AgentUninstalled, UninstallRules.CheckRequest(agent)?.Rule);
    }

    [Theory]
    [InlineData(AgentApproval.AwaitingApproval)]
    [InlineData(AgentApproval.Refused)]
    public void A_held_or_refused_enrollment_is_not_told_to_uninstall(AgentApproval approval)
    {
        var agent = Agent();
        agent.Approval = approval;

        Assert.Equal(UninstallRules.AgentNotActive, UninstallRules.CheckRequest(agent)?.Rule);
    }

    [Fact]
    public void A_confirmation_is_taken_only_from_an_agent_told_to_uninstall()
    {
        var agent = Agent();
        Assert.Equal(UninstallRules.UninstallNotRequested, UninstallRules.CheckConfirmation(agent)?.Rule);

        agent.UninstallRequestedAt = DateTimeOffset.UnixEpoch;
        Assert.Null(UninstallRules.CheckConfirmation(agent));
    }
}
