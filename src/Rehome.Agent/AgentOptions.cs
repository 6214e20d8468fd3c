using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using Rehome.Protocol;

namespace Rehome.Agent;

/// <summary>The agent's settings. Bound from <c>Rehome:Agent</c> (appsettings.json, environment, command line).</summary>
public sealed class AgentOptions
{
    public const string Section = "Rehome:Agent";

    /// <summary>The Rehome server, for example https://rehome.example.com.</summary>
    [Url]
    public string? ServerUrl { get; set; }

    /// <summary>A source connection's configuration key: used once, to enroll.</summary>
    public string? ConfigurationKey { get; set; }

    /// <summary>The agent's own folder: identity, job journals, logs. On Windows %ProgramData%\Rehome\Agent.</summary>
    [Required]
    public string StateFolder { get; set; } = OperatingSystem.IsWindows()
        ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.CommonApplicationData), "Rehome", "Agent")
        : "/var/lib/rehome-agent";

    /// <summary><c>Windows</c> (the real device) or <c>Simulated</c> (a device modelled in <see cref="SimulatedDeviceFolder"/>).</summary>
    [RegularExpression("(?i)^(Windows|Simulated)$", ErrorMessage = "Platform takes Windows or Simulated.")]
    public string Platform { get; set; } = OperatingSystem.IsWindows() ? "Windows" : "Simulated";

    public string? SimulatedDeviceFolder { get; set; }

    /// <summary>How long one poll waits at the server for a job.</summary>
    [Range(1, AgentProtocol.MaxPollSeconds)]
    public int PollSeconds { get; set; } = 25;

    /// <summary>How often an enrollment held for an administrator's approval (or refused) asks again.</summary>
    [Range(0, 86_400)]
    public int ApprovalRetrySeconds { get; set; } = 120;

    /// <summary>
    /// The publisher key (PEM, or the path of a .pem file) that every agent package must be signed with, set when the
    /// agent is installed. Without it the agent never updates itself, whatever the server offers.
    /// </summary>
    public string? UpdatePublisherKey { get; set; }

    /// <summary>How often an idle agent asks the server which version it should run.</summary>
    [Range(1, 86_400)]
    public int UpdateCheckSeconds { get; set; } = 900;

    /// <summary>How long a new version has to check in with the server before the previous version is restored.</summary>
    [Range(1, 3_600)]
    public int UpdateCheckInSeconds { get; set; } = 300;
}

/// <summary>
/// Checks the agent's settings when it starts, naming each bad one by its full name (<c>Rehome:Agent:PollSeconds</c>):
/// a service that cannot work says so at once, in its log, rather than at its first poll.
/// </summary>
public sealed class AgentOptionsRules : IValidateOptions<AgentOptions>
{
    public ValidateOptionsResult Validate(string? name, AgentOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        var problems = results.Select(r => $"{string.Join(", ", r.MemberNames.Select(m => $"{AgentOptions.Section}:{m}"))}: {r.ErrorMessage}").ToList();
        if (DevicePlatforms.IsSimulated(options.Platform) && string.IsNullOrWhiteSpace(options.SimulatedDeviceFolder))
        {
            problems.Add($"{AgentOptions.Section}:{nameof(AgentOptions.SimulatedDeviceFolder)} is required when {AgentOptions.Section}:{nameof(AgentOptions.Platform)} is Simulated.");
        }
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
