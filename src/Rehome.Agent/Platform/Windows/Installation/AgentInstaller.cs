namespace Rehome.Agent.Platform.Windows.Installation;

/// <summary>What the installer found out: 0 and what it did, or the exit code and every reason it stopped.</summary>
internal sealed record InstallResult(int ExitCode, IReadOnlyList<string> Messages)
{
    public const int Succeeded = 0;

    /// <summary>Not elevated, or bad arguments: nothing was changed.</summary>
    public const int Refused = 1;

    /// <summary>A protected folder exists but cannot be trusted: an administrator must look at it.</summary>
    public const int UntrustedFolder = 2;

    /// <summary>The service control manager refused a call.</summary>
    public const int ServiceFailed = 3;

    public bool Ok => ExitCode == Succeeded;
}

/// <summary>
/// Installs the agent on this Windows from the folder it runs in (nothing is copied): the protected folders, the
/// settings file, the "RehomeAgent" service (LocalSystem, automatic start, restarted after a failure), then starts it.
/// Running it again gives the same result: an existing service is brought to the same definition and restarted so
/// that it reads the new settings. Uninstall stops and deletes the service and removes %ProgramData%\Rehome.
/// Every system call goes through the seams, so each decision is tested on any OS.
/// </summary>
internal sealed class AgentInstaller(IServiceControl services, ProtectedFolders folders, AgentSettingsFile settings, Func<bool> isElevated, Action<string> removeData)
{
    public const string ServiceName = "RehomeAgent";

    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The service as Rehome registers it, running <paramref name="executablePath"/>.</summary>
    public static ServiceDefinition Definition(string executablePath, bool delayedAutoStart) => new(
        ServiceName,
        "Rehome Agent",
        "Moves this device between directories for Rehome: polls the Rehome server and runs the jobs it is given.",
        $"\"{executablePath}\"",
        delayedAutoStart,
        [TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60)],
        TimeSpan.FromDays(1));

    public InstallResult Install(InstallArguments arguments, string executablePath)
    {
        if (!isElevated())
        {
            return new InstallResult(InstallResult.Refused, ["install must run as Administrator (elevated) or SYSTEM: nothing was changed."]);
        }

        var refusals = folders.Ensure();
        if (refusals.Count > 0)
        {
            return new InstallResult(InstallResult.UntrustedFolder, [.. refusals.Select(r => r.ToString())]);
        }

        var messages = new List<string> { $"Protected folders ready under {folders.Root}." };
        settings.Write(new AgentSettings(arguments.ServerUrl, arguments.ConfigurationKey, arguments.PollSeconds));
        messages.Add($"Settings written to {settings.FilePath} (server {arguments.ServerUrl}).");

        var definition = Definition(executablePath, arguments.DelayedAutoStart);
        var registered = CallServices(messages, () =>
        {
            var state = services.Query(ServiceName);
            if (state is null)
            {
                messages.AddRange(services.Create(definition));
                messages.Add($"Service {ServiceName} created.");
            }
            else
            {
                if (state != ServiceRunState.Stopped)
                {
                    // It reads its settings at start only: restart it with the new ones.
                    services.Stop(ServiceName, StopTimeout);
                    messages.Add($"Service {ServiceName} stopped.");
                }

                messages.AddRange(services.Update(definition));
                messages.Add($"Service {ServiceName} updated.");
            }

            services.Start(ServiceName);
            messages.Add($"Service {ServiceName} started.");
        });
        return new InstallResult(registered ? InstallResult.Succeeded : InstallResult.ServiceFailed, messages);
    }

    public InstallResult Uninstall(bool keepData)
    {
        if (!isElevated())
        {
            return new InstallResult(InstallResult.Refused, ["uninstall must run as Administrator (elevated) or SYSTEM: nothing was changed."]);
        }

        var messages = new List<string>();
        var removed = CallServices(messages, () =>
        {
            var state = services.Query(ServiceName);
            if (state is null)
            {
                messages.Add($"Service {ServiceName} is not installed.");
            }
            else
            {
                if (state != ServiceRunState.Stopped)
                {
                    services.Stop(ServiceName, StopTimeout);
                    messages.Add($"Service {ServiceName} stopped.");
                }

                services.Delete(ServiceName);
                messages.Add($"Service {ServiceName} deleted.");
            }
        });
        if (!removed)
        {
            return new InstallResult(InstallResult.ServiceFailed, messages);
        }

        if (keepData)
        {
            messages.Add($"Kept {folders.Root} (identity, journals, settings).");
        }
        else
        {
            removeData(folders.Root);
            messages.Add($"Removed {folders.Root}.");
        }

        return new InstallResult(InstallResult.Succeeded, messages);
    }

    /// <summary>Runs the service calls; a refusal of the service control manager becomes a message naming the call.</summary>
    private static bool CallServices(List<string> messages, Action calls)
    {
        try
        {
            calls();
            return true;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or TimeoutException)
        {
            messages.Add($"The service control manager refused: {e.Message}");
            return false;
        }
    }
}
