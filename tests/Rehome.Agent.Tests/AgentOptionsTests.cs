namespace Rehome.Agent.Tests;

public sealed class AgentOptionsTests
{
    private static AgentOptions Good() => new() { ServerUrl = "https://rehome.example.test", StateFolder = "/var/lib/rehome-agent", Platform = "Simulated", SimulatedDeviceFolder = "/tmp/device" };

    public static TheoryData<string, Action<AgentOptions>> BadSettings { get; } = new()
    {
        { "Rehome:Agent:PollSeconds", o => o.PollSeconds = 0 },
        { "Rehome:Agent:PollSeconds", o => o.PollSeconds = 56 },
        { "Rehome:Agent:ApprovalRetrySeconds", o => o.ApprovalRetrySeconds = -1 },
        { "Rehome:Agent:ServerUrl", o => o.ServerUrl = "not a url" },
        { "Rehome:Agent:StateFolder", o => o.StateFolder = "" },
        { "Rehome:Agent:Platform", o => o.Platform = "Mac" },
        { "Rehome:Agent:SimulatedDeviceFolder", o => o.SimulatedDeviceFolder = null },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public void A_bad_agent_setting_is_refused_at_start_by_its_full_name(string setting, Action<AgentOptions> spoil)
    {
        var options = Good();
        spoil(options);

        var result = new AgentOptionsRules().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(setting, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void The_default_settings_of_a_simulated_agent_with_its_folder_pass()
    {
        Assert.True(new AgentOptionsRules().Validate(null, Good()).Succeeded);
    }
}
