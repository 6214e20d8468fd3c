using Rehome.Core.Agents;

namespace Rehome.Core.Tests.Agents;

public class EnrollmentRulesTests
{
    private static DeviceAgent Agent(string key, DateTimeOffset? revokedAt = null, AgentApproval approval = AgentApproval.Active) => new()
    {
        Id = Guid.NewGuid(),
        DeviceName = "PC-1",
        DeviceKey = "PC-1",
        CredentialHash = "hash",
        PublicKey = key,
        Approval = approval,
        RevokedAt = revokedAt,
    };

    [Fact]
    public void A_device_that_never_had_an_agent_takes_the_newcomer() =>
        Assert.Equal(EnrollmentVerdict.NewDevice, EnrollmentRules.Decide([], "new").Verdict);

    [Theory]
    [InlineData("other")]
    [InlineData("revoked")]
    public void Any_key_for_a_device_whose_agent_was_revoked_is_held_its_own_too(string key)
    {
        var decision = EnrollmentRules.Decide([Agent("revoked", DateTimeOffset.UnixEpoch)], key);

        Assert.Equal(EnrollmentVerdict.Held, decision.Verdict);
        Assert.Contains("revoked", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_refused_enrollment_alone_does_not_bind_the_device() =>
        Assert.Equal(EnrollmentVerdict.NewDevice,
            EnrollmentRules.Decide([Agent("refused", DateTimeOffset.UnixEpoch, AgentApproval.Refused)], "new").Verdict);

    [Fact]
    public void The_device_agents_key_after_a_reinstall_gets_a_new_credential_though_older_agents_were_revoked() =>
        Assert.Equal(EnrollmentVerdict.SameKey, EnrollmentRules.Decide([Agent("key", DateTimeOffset.UnixEpoch), Agent("key")], "key").Verdict);
}
