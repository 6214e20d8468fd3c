using System.Runtime.Versioning;
using System.Security.Principal;
using Microsoft.Win32;
using Rehome.Agent.Platform.Windows.SelfTest;

namespace Rehome.Agent.Platform.Windows.Installation;

/// <summary>Runs the agent's own commands (install, uninstall, selftest) on this Windows with the real seams.</summary>
[SupportedOSPlatform("windows")]
internal static class AgentCommands
{
    public static int Run(AgentCommand command, TextWriter output, TextWriter error)
    {
        switch (command)
        {
            case AgentCommand.Invalid invalid:
                error.WriteLine(invalid.Message);
                return InstallResult.Refused;
            case AgentCommand.SelfTest selfTest:
                return SelfTestRunner.Run(selfTest.AllowListPath, selfTest.Scratch, output);
        }

        var installer = new AgentInstaller(
            new WindowsServiceControl(),
            new ProtectedFolders(ProtectedFolders.DefaultRoot, new WindowsFolderSecurity()),
            new AgentSettingsFile(AgentSettingsFile.DefaultPath),
            IsElevated,
            RemoveData);
        var result = command switch
        {
            AgentCommand.Install install => installer.Install(install.Arguments, Environment.ProcessPath ?? throw new InvalidOperationException("The agent's own path is unknown.")),
            AgentCommand.Uninstall uninstall => installer.Uninstall(uninstall.KeepData),
            _ => throw new ArgumentOutOfRangeException(nameof(command)),
        };
        foreach (var message in result.Messages)
        {
            (result.Ok ? output : error).WriteLine(message);
        }

        return result.ExitCode;
    }

    public static bool IsElevated()
    {
        using var identity = WindowsIdentity.GetCurrent();
        return identity.IsSystem || new WindowsPrincipal(identity).IsInRole(WindowsBuiltInRole.Administrator);
    }

    /// <summary>The data folder (a junction in it is removed, never followed) and the agent's registry key (boot counter).</summary>
    private static void RemoveData(string root)
    {
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }

        Registry.LocalMachine.DeleteSubKeyTree(@"SOFTWARE\Rehome", throwOnMissingSubKey: false);
    }
}
