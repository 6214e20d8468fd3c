using System.Runtime.Versioning;

namespace Rehome.Agent.Platform.Windows.SelfTest;

/// <summary>Windows tools the agent starts (dsregcmd, powershell) go through SystemCommand: one harmless run of it.</summary>
[SupportedOSPlatform("windows")]
internal sealed class CommandProbes : ISelfTestProbes
{
    public IEnumerable<(string Name, Func<string> Run)> Probes(SelfTestContext context)
    {
        yield return ("system-command", SystemCommandRuns);
    }

    private static string SystemCommandRuns()
    {
        var output = SystemCommand.RunAsync(SystemCommand.System32("cmd.exe"), ["/c", "ver"], CancellationToken.None).GetAwaiter().GetResult().Trim();
        return output.Length > 0 ? output : throw new InvalidOperationException("cmd /c ver printed nothing.");
    }
}
