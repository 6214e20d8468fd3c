namespace Rehome.Agent.Platform.Windows.Installation;

/// <summary>How the agent's Windows service is registered.</summary>
/// <param name="Name">The service name (sc.exe, Get-Service).</param>
/// <param name="DisplayName">The name the Services console shows.</param>
/// <param name="Description">The description the Services console shows.</param>
/// <param name="CommandLine">The quoted executable path the service control manager starts.</param>
/// <param name="DelayedAutoStart">Start shortly after the other automatic services (SERVICE_CONFIG_DELAYED_AUTO_START_INFO).</param>
/// <param name="RestartDelays">Recovery: restart the service after each failure, waiting these delays in turn (the last one repeats).</param>
/// <param name="ResetPeriod">After this long without a failure, the failure count starts again from the first delay.</param>
internal sealed record ServiceDefinition(
    string Name,
    string DisplayName,
    string Description,
    string CommandLine,
    bool DelayedAutoStart,
    IReadOnlyList<TimeSpan> RestartDelays,
    TimeSpan ResetPeriod);

/// <summary>A service's state as the service control manager reports it.</summary>
internal enum ServiceRunState
{
    Stopped = 1,
    StartPending = 2,
    StopPending = 3,
    Running = 4,
    ContinuePending = 5,
    PausePending = 6,
    Paused = 7,
}

/// <summary>The service control manager calls the installer makes (OpenSCManager, CreateService, ChangeServiceConfig(2), ...).</summary>
internal interface IServiceControl
{
    /// <summary>The service's state, or null when no service of that name is installed.</summary>
    ServiceRunState? Query(string name);

    /// <summary>Registers the service: LocalSystem, automatic start, with its description and recovery actions.</summary>
    /// <returns>Optional settings this Windows does not support (they are skipped), one line each.</returns>
    IReadOnlyList<string> Create(ServiceDefinition definition);

    /// <summary>Brings an existing service to <paramref name="definition"/> (command line, account, start type, description, recovery).</summary>
    /// <returns>Optional settings this Windows does not support (they are skipped), one line each.</returns>
    IReadOnlyList<string> Update(ServiceDefinition definition);

    void Start(string name);

    /// <summary>Asks the service to stop and waits until it has, at most <paramref name="timeout"/>.</summary>
    void Stop(string name, TimeSpan timeout);

    /// <summary>Marks the service for deletion (Windows removes it once its last handle closes).</summary>
    void Delete(string name);
}
