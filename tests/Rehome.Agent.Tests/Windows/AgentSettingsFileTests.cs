using Microsoft.Extensions.Configuration;
using Rehome.Agent.Platform.Windows.Installation;

namespace Rehome.Agent.Tests.Windows;

public sealed class AgentSettingsFileTests : IDisposable
{
    private readonly string scratch = Directory.CreateTempSubdirectory("rehome-settings-").FullName;

    public void Dispose() => Directory.Delete(scratch, recursive: true);

    private string FilePath => Path.Combine(scratch, "agent.json");

    [Fact]
    public void The_host_reads_the_file_the_installer_writes_as_agent_options()
    {
        new AgentSettingsFile(FilePath).Write(new AgentSettings("https://rehome.example.test", "key-1", 40));

        var options = new ConfigurationBuilder().AddJsonFile(FilePath).Build().GetSection(AgentOptions.Section).Get<AgentOptions>()!;

        Assert.Equal(("https://rehome.example.test", "key-1", 40), (options.ServerUrl, options.ConfigurationKey, options.PollSeconds));
    }

    [Fact]
    public void Forgetting_the_key_keeps_everything_else_and_happens_once()
    {
        File.WriteAllText(FilePath, """{"Logging":{"LogLevel":{"Default":"Debug"}},"Rehome":{"Agent":{"StateFolder":"D:\\State"}}}""");
        var file = new AgentSettingsFile(FilePath);
        file.Write(new AgentSettings("https://rehome.example.test", "key-1", null));

        Assert.True(file.ForgetConfigurationKey());
        Assert.False(file.ForgetConfigurationKey());

        var configuration = new ConfigurationBuilder().AddJsonFile(FilePath).Build();
        Assert.Null(configuration["Rehome:Agent:ConfigurationKey"]);
        Assert.Equal("https://rehome.example.test", configuration["Rehome:Agent:ServerUrl"]);
        Assert.Equal(@"D:\State", configuration["Rehome:Agent:StateFolder"]);
        Assert.Equal("Debug", configuration["Logging:LogLevel:Default"]);
        Assert.DoesNotContain("key-1", File.ReadAllText(FilePath), StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_file_there_is_nothing_to_read_or_forget()
    {
        var file = new AgentSettingsFile(FilePath);

        Assert.Null(file.Read());
        Assert.False(file.ForgetConfigurationKey());
    }
}
