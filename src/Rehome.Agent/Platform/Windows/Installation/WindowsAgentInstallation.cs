using System.Diagnostics;
using System.Runtime.Versioning;
using Rehome.Agent.Polling;
using Rehome.Agent.Updates;

namespace Rehome.Agent.Platform.Windows.Installation;

/// <summary>
/// The agent's installation on Windows: the service's folder and the service. A hand-over copies the running
/// version aside (for a rollback) and starts, from that copy, <c>rehome-agent.exe update-apply</c>: a helper that
/// outlives the service, stops it, copies the new files in, starts it, and watches the new version
/// (<see cref="UpdateWatchdog"/>): confirmed, it deletes the staged files and ends; not in time, it stops the service, copies the
/// previous files back and starts it again. Verified on Windows only (docs/windows.md).
/// </summary>
[SupportedOSPlatform("windows")]
internal sealed class WindowsAgentInstallation(string stateFolder, string installFolder, IServiceControl services, ILogger logger) : IAgentInstallation
{
    public const string ApplySwitch = "update-apply";

    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(60);

    private string PreviousFolder => Path.Combine(stateFolder, "updates", "previous");

    public string InstalledVersion => AgentRuntime.Version;

    public Task StartingAsync(UpdateState state, CancellationToken ct) => Task.CompletedTask;

    public Task HandOverAsync(UpdateRecord record, string stagedFolder, UpdateState state, CancellationToken ct)
    {
        // The helper runs from the copy: the service's folder changes under it.
        CopyFolder(installFolder, PreviousFolder);
        var helper = new ProcessStartInfo(Path.Combine(PreviousFolder, "rehome-agent.exe")) { UseShellExecute = false, CreateNoWindow = true };
        foreach (var argument in new[] { ApplySwitch, stateFolder, installFolder, stagedFolder })
        {
            helper.ArgumentList.Add(argument);
        }
        using var started = Process.Start(helper) ?? throw new InvalidOperationException("The update helper did not start.");
        logger.LogInformation("Update helper {ProcessId} started for version {Version}", started.Id, record.ToVersion);
        return Task.CompletedTask;
    }

    /// <summary>Nothing here: the helper sees the confirmation and ends (the copy it ran from is overwritten by the next update).</summary>
    public Task CommitAsync(UpdateRecord record, CancellationToken ct) => Task.CompletedTask;

    public Task RestorePreviousAsync(UpdateRecord record, CancellationToken ct)
    {
        services.Stop(AgentInstaller.ServiceName, StopTimeout);
        CopyFolder(PreviousFolder, installFolder);
        services.Start(AgentInstaller.ServiceName);
        return Task.CompletedTask;
    }

    /// <summary>The helper: <c>update-apply &lt;state folder&gt; &lt;install folder&gt; &lt;staged folder&gt;</c>, logging to the event log.</summary>
    public static int Apply(IReadOnlyList<string> arguments)
    {
        using var loggers = LoggerFactory.Create(logging => logging.AddEventLog());
        var logger = loggers.CreateLogger("Rehome.Agent.Update");
        if (arguments is not [var state, var install, var staged])
        {
            logger.LogError("update-apply takes the state folder, the install folder and the staged folder");
            return 2;
        }
        var services = new WindowsServiceControl();
        var installation = new WindowsAgentInstallation(state, install, services, logger);
        services.Stop(AgentInstaller.ServiceName, StopTimeout);
        CopyFolder(staged, install);
        services.Start(AgentInstaller.ServiceName);
        var rolledBack = UpdateWatchdog.RunAsync(new UpdateState(state), installation, TimeProvider.System, logger, CancellationToken.None).GetAwaiter().GetResult();
        Directory.Delete(staged, recursive: true);
        return rolledBack ? 1 : 0;
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }
}
