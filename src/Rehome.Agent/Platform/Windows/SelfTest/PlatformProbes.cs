using System.Runtime.Versioning;
using Rehome.Protocol;

namespace Rehome.Agent.Platform.Windows.SelfTest;

/// <summary>
/// The platform the service really builds (WindowsPlatformFactory): each concern's read-only or reversible calls,
/// so that the seams' native declarations, their marshalling and the Windows-only paths execute.
/// </summary>
[SupportedOSPlatform("windows")]
internal sealed class PlatformProbes : ISelfTestProbes
{
    public IEnumerable<(string Name, Func<string> Run)> Probes(SelfTestContext context)
    {
        var staging = Path.Combine(context.Scratch, "platform-staging");
        var platform = new Lazy<WindowsDevicePlatform>(() => new WindowsDevicePlatform(new WindowsLocalAccounts(), new WindowsDeviceSettings(), stagingFolder: staging));
        yield return ("platform-facts", () => Facts(platform.Value));
        yield return ("platform-stage-return", () => Stage(platform.Value));
        yield return ("platform-keep-awake", () => KeepAwake(platform.Value));
        yield return ("platform-administrators", () => $"{Run(platform.Value.Accounts.GetAdministratorsAsync(CancellationToken.None)).Count} members");
        yield return ("platform-profiles", () => $"{Run(platform.Value.Profiles.GetAsync(CancellationToken.None)).Count} profiles");
        yield return ("platform-cached-logons", () => $"CachedLogonsCount {Run(platform.Value.Settings.GetCachedLogonsCountAsync(CancellationToken.None))?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unset"}");
        yield return ("session-sign-in-block", SignInBlock);
        yield return ("error-texts", ErrorTexts);

        // Last: under Wine this entry point is an unimplemented stub, and the exception it raises leaves the
        // process unfit for further native calls.
        yield return ("platform-verify", () => Verify(platform.Value));
    }

    private static T Run<T>(Task<T> task) => task.GetAwaiter().GetResult();

    private static string Facts(WindowsDevicePlatform platform)
    {
        var facts = platform.ReadFacts("selftest");
        return $"{facts.DeviceName} {facts.JoinType}, {facts.OsVersion}, {facts.ProfileSids.Count} profiles, {facts.FreeDiskSpaceBytes >> 20} MiB free";
    }

    /// <summary>Stages and discards a return ticket: the staging folder secured, the blob decoded and sealed.</summary>
    private static string Stage(WindowsDevicePlatform platform)
    {
        var ticket = new DestinationJoin
        {
            Kind = JoinKind.ActiveDirectory,
            Offline = true,
            DomainDnsName = "source.test",
            ComputerName = "PROBE",
            ProvisioningData = Convert.ToBase64String("probe"u8.ToArray()),
        };
        platform.Membership.StageAsync(JoinPurpose.Return, ticket, null, CancellationToken.None).GetAwaiter().GetResult();
        platform.Membership.DiscardStagedAsync(CancellationToken.None).GetAwaiter().GetResult();
        return "staged and discarded";
    }

    /// <summary>The secure channel query (I_NetLogonControl2) against a domain the machine is not in: any answer, no crash.</summary>
    private static string Verify(WindowsDevicePlatform platform)
    {
        var join = new DestinationJoin { Kind = JoinKind.ActiveDirectory, Offline = true, DomainDnsName = "nowhere.test", ComputerName = Environment.MachineName };
        var verified = Run(platform.Membership.VerifyAsync(join, CancellationToken.None));
        return $"joined {verified.Joined}, reachable {verified.Reachable}: {verified.Detail}";
    }

    private static string KeepAwake(WindowsDevicePlatform platform)
    {
        using (platform.Power.KeepAwake("Rehome self-test"))
        {
        }

        return $"power request set and cleared; boot count {platform.Power.BootCount}";
    }

    /// <summary>Reads whether sign-in is blocked (the agent's record) and the logon rights of BUILTIN\Users through LSA.</summary>
    private static string SignInBlock()
    {
        var session = new WindowsUserSession();
        var status = new NativeLogonRights().Get("S-1-5-32-545", out var rights);
        return status == 0
            ? $"blocked {session.IsLocked}; S-1-5-32-545 holds {string.Join(", ", rights)}"
            : throw new InvalidOperationException($"LsaEnumerateAccountRights answered NTSTATUS-mapped error {status}.");
    }

    private static string ErrorTexts()
    {
        var text = WindowsErrors.Describe(NativeWindows.Create().Errors, 2692, "probe");
        return text.Contains("2692", StringComparison.Ordinal) ? text : throw new InvalidOperationException($"No code in: {text}");
    }
}
