using System.Runtime.Versioning;

namespace Rehome.Agent.Platform.Windows.SelfTest;

/// <summary>Where the device belongs and who is signed in: NetGetJoinInformation, DsRole, the Entra join keys, WTS.</summary>
[SupportedOSPlatform("windows")]
internal sealed class MembershipProbes : ISelfTestProbes
{
    public IEnumerable<(string Name, Func<string> Run)> Probes(SelfTestContext context)
    {
        yield return ("membership", Membership);
        yield return ("terminal-sessions", Sessions);
    }

    private static string Membership()
    {
        var membership = new WindowsDevicePlatform(new WindowsLocalAccounts(), new WindowsDeviceSettings()).Membership.GetAsync(CancellationToken.None).GetAwaiter().GetResult();
        return $"{membership.ComputerName}: {membership.JoinType} {membership.DomainName}{membership.TenantId}";
    }

    private static string Sessions()
    {
        var sessions = TerminalSessions.Enumerate();
        return sessions.Count == 0
            ? throw new InvalidOperationException("WTSEnumerateSessions listed no session at all (not even session 0).")
            : $"{sessions.Count} sessions: {string.Join(", ", sessions.Select(s => $"{s.Id} {s.State} {s.User}"))}";
    }
}
