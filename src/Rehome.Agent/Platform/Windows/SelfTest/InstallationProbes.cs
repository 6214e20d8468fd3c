using System.Runtime.Versioning;
using Rehome.Agent.Platform.Windows.Installation;
using Rehome.Protocol;

namespace Rehome.Agent.Platform.Windows.SelfTest;

/// <summary>The installer's parts in a scratch folder: protected folders, settings file, join staging, the service control manager.</summary>
[SupportedOSPlatform("windows")]
internal sealed class InstallationProbes : ISelfTestProbes
{
    private const string ProbeService = "RehomeSelfTest";

    public IEnumerable<(string Name, Func<string> Run)> Probes(SelfTestContext context)
    {
        var folders = new ProtectedFolders(Path.Combine(context.Scratch, "Rehome"), new WindowsFolderSecurity());
        yield return ("protected-folders-create", () => CreateFolders(folders));
        yield return ("protected-folders-check", () => CheckFolders(folders));
        yield return ("settings-file", () => SettingsFile(Path.Combine(context.Scratch, "agent.json")));
        yield return ("join-staging", () => JoinStaging(Path.Combine(context.Scratch, "staging")));
        yield return ("service-control", ServiceControl);
    }

    private static string CreateFolders(ProtectedFolders folders)
    {
        var refusals = folders.Ensure();
        return refusals.Count == 0
            ? $"{folders.Folders.Count} folders created under {folders.Root}"
            : throw new InvalidOperationException(string.Join(" | ", refusals));
    }

    private static string CheckFolders(ProtectedFolders folders)
    {
        var refusals = folders.Check();
        return refusals.Count == 0 ? "owner and DACL exactly as required" : throw new InvalidOperationException(string.Join(" | ", refusals));
    }

    private static string SettingsFile(string path)
    {
        var file = new AgentSettingsFile(path);
        file.Write(new AgentSettings("https://rehome.example.test", "probe-key", 25));
        var removed = file.ForgetConfigurationKey();
        var read = file.Read();
        return removed && read is { ServerUrl: "https://rehome.example.test", ConfigurationKey: null, PollSeconds: 25 }
            ? "written, read, key forgotten"
            : throw new InvalidOperationException($"Read back {read}.");
    }

    private static string JoinStaging(string folder)
    {
        var staging = new WindowsJoinStaging(folder, new WindowsStagingProtection());
        staging.Stage(JoinPurpose.Return, StagedSecret.OfflineJoin, [1, 2, 3]);
        var read = staging.Read(JoinPurpose.Return, StagedSecret.OfflineJoin);
        staging.DeleteSecrets(JoinPurpose.Return);
        return read is [1, 2, 3] && !staging.Has(JoinPurpose.Return, StagedSecret.OfflineJoin)
            ? "staged (folder secured, DPAPI sealed), read, secrets deleted"
            : throw new InvalidOperationException("The staged join did not come back as staged.");
    }

    /// <summary>A throwaway service through every call the installer makes, except starting it.</summary>
    private static string ServiceControl()
    {
        var services = new WindowsServiceControl();
        var definition = AgentInstaller.Definition(Environment.ProcessPath!, delayedAutoStart: false) with { Name = ProbeService, DisplayName = "Rehome self-test" };
        if (services.Query(ProbeService) is not null)
        {
            services.Delete(ProbeService);
        }

        var skipped = services.Create(definition).ToList();
        var created = services.Query(ProbeService);
        skipped.AddRange(services.Update(definition with { DelayedAutoStart = true }));
        services.Delete(ProbeService);
        return created == ServiceRunState.Stopped
            ? $"created (description, recovery, delayed start), updated, deleted{(skipped.Count == 0 ? "" : "; " + string.Join(" ", skipped.Distinct()))}"
            : throw new InvalidOperationException($"A new service is {created}, not stopped.");
    }
}
