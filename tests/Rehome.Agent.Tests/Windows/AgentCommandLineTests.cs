using Rehome.Agent.Platform.Windows.Installation;

namespace Rehome.Agent.Tests.Windows;

public sealed class AgentCommandLineTests
{
    [Fact]
    public void Install_takes_the_server_the_key_and_the_optional_poll_time()
    {
        var command = AgentCommandLine.Parse(["install", "--server-url", "https://rehome.example.test", "--configuration-key=abc", "--poll-seconds", "30", "--delayed-start"]);

        Assert.Equal(new AgentCommand.Install(new InstallArguments("https://rehome.example.test", "abc", 30, true)), command);
    }

    [Fact]
    public void Arguments_for_the_host_are_no_command()
    {
        Assert.Null(AgentCommandLine.Parse([]));
        Assert.Null(AgentCommandLine.Parse(["--Rehome:Agent:ServerUrl=https://rehome.example.test"]));
    }

    [Theory]
    [InlineData("install --configuration-key k", "--server-url")]
    [InlineData("install --server-url ftp://x --configuration-key k", "--server-url")]
    [InlineData("install --server-url https://x", "--configuration-key")]
    [InlineData("install --server-url https://x --configuration-key k --poll-seconds 0", "--poll-seconds")]
    [InlineData("install --server-url https://x --configuration-key k --poll-seconds ten", "--poll-seconds")]
    [InlineData("install --server-url", "needs a value")]
    [InlineData("uninstall --force", "Unknown option")]
    public void Wrong_arguments_say_what_is_wrong_and_show_the_usage(string line, string expected)
    {
        var command = Assert.IsType<AgentCommand.Invalid>(AgentCommandLine.Parse(line.Split(' ')));

        Assert.Contains(expected, command.Message, StringComparison.Ordinal);
        Assert.Contains("Usage:", command.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_misplaced_secret_is_never_echoed()
    {
        var command = Assert.IsType<AgentCommand.Invalid>(AgentCommandLine.Parse(["install", "--server-url", "https://x", "--configuration-key", "k", "s3cr3t-value"]));

        Assert.DoesNotContain("s3cr3t", command.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Uninstall_and_selftest_take_their_options()
    {
        Assert.Equal(new AgentCommand.Uninstall(KeepData: true), AgentCommandLine.Parse(["uninstall", "--keep-data"]));
        Assert.Equal(new AgentCommand.Uninstall(KeepData: false), AgentCommandLine.Parse(["UNINSTALL"]));
        Assert.Equal(new AgentCommand.SelfTest("allow.txt", null), AgentCommandLine.Parse(["selftest", "--allow-list", "allow.txt"]));
    }
}
