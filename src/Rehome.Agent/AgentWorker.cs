using Microsoft.Extensions.Options;
using Rehome.Agent.Platform;
using Rehome.Agent.Platform.Simulated;
using Rehome.Agent.Platform.Windows;
using Rehome.Agent.Platform.Windows.Installation;
using Rehome.Agent.Polling;

namespace Rehome.Agent;

/// <summary>The agent as a service: one runtime for this device, started again after each restart of a simulated device.</summary>
public sealed class AgentWorker(IOptions<AgentOptions> options, AgentStartupCheck startup, IHostApplicationLifetime lifetime, ILogger<AgentWorker> logger) : BackgroundService
{
    /// <summary>How long the agent waits for the restart it asked for before it takes the job up again.</summary>
    public static TimeSpan RestartWait { get; set; } = TimeSpan.FromMinutes(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (startup.Refusals.Count > 0)
        {
            foreach (var refusal in startup.Refusals)
            {
                logger.LogCritical("Refusing to run: {Folder} {Problem} {Fix}", refusal.Folder, refusal.Problem, refusal.Fix);
            }

            Environment.ExitCode = 1;
            lifetime.StopApplication();
            return;
        }

        var settings = options.Value;
        if (string.IsNullOrWhiteSpace(settings.ServerUrl))
        {
            logger.LogCritical("Rehome:Agent:ServerUrl is not set: the agent does not know its server.");
            lifetime.StopApplication();
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            var runtime = CreateRuntime(settings);
            var exit = await AgentSupervisor.RunOnceAsync(runtime, logger, stoppingToken);
            if (exit == AgentExit.Refused || runtime.Uninstalled)
            {
                lifetime.StopApplication();
                return;
            }
            if (exit is AgentExit.Restarted or AgentExit.HandedOver && OperatingSystem.IsWindows() && !DevicePlatforms.IsSimulated(settings))
            {
                // Windows is shutting down: the service stops with it and the journal resumes after the boot. A
                // restart somebody aborted (shutdown /a) never comes: after a while the agent goes on from its
                // journal, whose restart step sees the same boot and asks again. A hand-over: the update helper
                // stops this service; if it never does, the agent goes on and reports the update rolled back.
                await Task.Delay(RestartWait, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
                if (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                logger.LogWarning("The restart did not come in {Minutes} min (aborted?); going on from the journal", RestartWait.TotalMinutes);
                continue;
            }
            if (exit == AgentExit.Stopped)
            {
                return;
            }
        }
    }

    private AgentRuntime CreateRuntime(AgentOptions settings)
    {
        var (platform, session, faults, handler) = DevicePlatforms.Create(settings, TimeProvider.System, logger);
        var http = new HttpClient(handler) { BaseAddress = new Uri(settings.ServerUrl!), Timeout = TimeSpan.FromSeconds(settings.PollSeconds + 30) };
        return new AgentRuntime(settings, platform, session, faults, new GatewayClient(http), TimeProvider.System, logger)
        {
            IdentityReady = ForgetConfigurationKey,
            Removal = DevicePlatforms.Removal(settings),
            Installation = DevicePlatforms.CreateInstallation(settings, logger),
        };
    }

    /// <summary>The key only enrolls: once the agent holds its identity, the settings file no longer keeps it.</summary>
    private void ForgetConfigurationKey()
    {
        if (startup.SettingsFile is { } path && new AgentSettingsFile(path).ForgetConfigurationKey())
        {
            logger.LogInformation("Enrolled: the configuration key is removed from {SettingsFile}", path);
        }
    }
}

/// <summary>
/// What Program found before the host read any state: on Windows, the protected folders that are not as they must be
/// (the agent then refuses to run) and the settings file it reads; on a simulated device, nothing.
/// </summary>
public sealed record AgentStartupCheck(IReadOnlyList<FolderRefusal> Refusals, string? SettingsFile)
{
    public static AgentStartupCheck None { get; } = new([], null);
}

/// <summary>Chooses the device platform from the settings.</summary>
public static class DevicePlatforms
{
    public static bool IsSimulated(AgentOptions settings) => IsSimulated(settings.Platform);

    public static bool IsSimulated(string? platform) => string.Equals(platform, "Simulated", StringComparison.OrdinalIgnoreCase);

    /// <summary>What removes the agent when the server tells it to uninstall: its service and files on Windows, flags on a simulated device.</summary>
    public static IAgentRemoval Removal(AgentOptions settings) =>
        IsSimulated(settings) ? new SimulatedAgentRemoval(settings.SimulatedDeviceFolder!, TimeProvider.System)
        : OperatingSystem.IsWindows() ? WindowsAgentRemoval.Create()
        : NoAgentRemoval.Instance;

    public static (IDevicePlatform Platform, IUserSession Session, IStepFaults? Faults, HttpMessageHandler Handler) Create(
        AgentOptions settings, TimeProvider time, ILogger logger)
    {
        if (IsSimulated(settings))
        {
            var folder = settings.SimulatedDeviceFolder ?? throw new InvalidOperationException("Rehome:Agent:SimulatedDeviceFolder is required with the simulated platform.");
            var gate = new NetworkGate(new SocketsHttpHandler());
            var device = new SimulatedDevicePlatform(folder, gate, time);
            return (device, device.Session, device, gate);
        }
        if (string.Equals(settings.Platform, "Windows", StringComparison.OrdinalIgnoreCase) && OperatingSystem.IsWindows())
        {
            return WindowsPlatformFactory.Create(logger, settings.StateFolder);
        }
        throw new InvalidOperationException($"Rehome:Agent:Platform is '{settings.Platform}'; this system runs 'Simulated'{(OperatingSystem.IsWindows() ? " or 'Windows'" : "")}.");
    }

    /// <summary>The agent's own installation, through which it updates itself (see <see cref="IAgentInstallation"/>).</summary>
    public static IAgentInstallation CreateInstallation(AgentOptions settings, ILogger logger) =>
        OperatingSystem.IsWindows() && !IsSimulated(settings)
            ? new WindowsAgentInstallation(settings.StateFolder, AppContext.BaseDirectory, new WindowsServiceControl(), logger)
            : new SimulatedAgentInstallation(settings.SimulatedDeviceFolder ?? throw new InvalidOperationException("Rehome:Agent:SimulatedDeviceFolder is required with the simulated platform."),
                TimeProvider.System, logger);
}
