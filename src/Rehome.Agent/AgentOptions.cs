namespace Rehome.Agent;

/// <summary>The agent's settings. Bound from <c>Rehome:Agent</c> (appsettings.json, environment, command line).</summary>
public sealed class AgentOptions
{
    public const string Section = "Rehome:Agent";

    /// <summary>The Rehome server, for example https://rehome.example.com.</summary>
    public string? ServerUrl { get; set; }

    /// <summary>A source connection's configuration key: used once, to enroll.</summary>
    public string? ConfigurationKey { get; set; }

    /// <summary>The agent's own folder: identity, job journals, logs. On Windows %ProgramData%\Rehome\Agent.</summary>
    public string StateFolder { get; set; } = OperatingSystem.IsWindows()
        ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.CommonApplicationData), "Rehome", "Agent")
        : "/var/lib/rehome-agent";

    /// <summary><c>Windows</c> (the real device) or <c>Simulated</c> (a device modelled in <see cref="SimulatedDeviceFolder"/>).</summary>
    public string Platform { get; set; } = OperatingSystem.IsWindows() ? "Windows" : "Simulated";

    public string? SimulatedDeviceFolder { get; set; }

    /// <summary>How long one poll waits at the server for a job.</summary>
    public int PollSeconds { get; set; } = 25;

    /// <summary>How often an enrollment held for an administrator's approval (or refused) asks again.</summary>
    public int ApprovalRetrySeconds { get; set; } = 120;
}
