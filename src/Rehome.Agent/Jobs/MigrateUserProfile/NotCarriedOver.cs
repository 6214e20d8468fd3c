using System.Globalization;
using System.Text.Json;
using Rehome.Agent.Platform;
using Rehome.Protocol;
using Rehome.Security.Stores;

namespace Rehome.Agent.Jobs.MigrateUserProfile;

/// <summary>
/// AppX (Microsoft Store) packages are registered per user SID in the AppX deployment service's state, which a
/// profile hand-over cannot rewrite: under the destination account the packages are installed but not registered,
/// and their tiles and apps do not start. The user's classes hive lists them (one subkey per package under
/// <see cref="UserHives.AppxPackagesKey"/>, with its PackageRootFolder); a RunOnce entry in the user's hive
/// re-registers each of them for the account that signs in first (<see cref="Command"/>, within RunOnce's 260
/// characters). The value it replaced (normally none) is journaled first, and the undo puts it back.
/// </summary>
public static class AppxReregistration
{
    public const string ValueName = "RehomeReregisterAppx";
    public const string RunOnceKey = @"Software\Microsoft\Windows\CurrentVersion\RunOnce";
    private const string PackagesKey = "profile.appx.packages";
    private const string BeforeKey = "profile.appx.runOnceBefore";

    /// <summary>At sign-in, in the user's session: every package the user's classes hive lists, registered again from its folder.</summary>
    public static string Command { get; } =
        $@"powershell -NoP -W Hidden -C ""gci 'HKCU:\Software\Classes\{UserHives.AppxPackagesKey}'|%{{Add-AppxPackage -Register ($_.GetValue('PackageRootFolder')+'\AppxManifest.xml') -DisableDev -EA 0}}""";

    public static void Schedule(JobContext context, HiveSession session, string sid)
    {
        var classes = UserHives.ClassesRoot(sid);
        if (!session.Mounts.Any(m => m.Root.Equals(classes, StringComparison.OrdinalIgnoreCase)))
        {
            context.Log.Warning("The profile's classes hive (UsrClass.dat) is not open: its AppX packages are unknown and not re-registered.");
            return;
        }
        var packages = session.SubkeyNames($@"{classes}\{UserHives.AppxPackagesKey}");
        context.Journal.Set(PackagesKey, packages.Count.ToString(CultureInfo.InvariantCulture));
        if (packages.Count == 0)
        {
            return;
        }
        var key = $@"{UserHives.UserRoot(sid)}\{RunOnceKey}";
        if (context.Journal.Get(BeforeKey) is null)
        {
            var before = session.GetValue(key, ValueName);
            context.Journal.Set(BeforeKey, before is null ? "" : JsonSerializer.Serialize(before, AgentProtocol.JsonOptions));
        }
        session.SetValue(key, RegistryValue.OfString(ValueName, Command));
        context.Log.Information($"{packages.Count} AppX packages are registered again for the new account at its first sign-in (RunOnce {ValueName}).");
    }

    /// <summary>How many AppX packages the profile had registered; null when unknown.</summary>
    public static int? PackagesFound(JobContext context) =>
        int.TryParse(context.Journal.Get(PackagesKey), CultureInfo.InvariantCulture, out var count) ? count : null;

    public static bool Scheduled(JobContext context) => context.Journal.Get(BeforeKey) is not null;

    /// <summary>Puts back the RunOnce value that was there before (removes the entry when there was none).</summary>
    public static void Undo(JobContext context, HiveSession session)
    {
        if (context.Journal.Get(BeforeKey) is not { } before)
        {
            return;
        }
        var key = $@"{UserHives.UserRoot(ProfileJournal.SourceOf(context).Sid)}\{RunOnceKey}";
        try
        {
            if (before.Length == 0)
            {
                session.DeleteValue(key, ValueName);
            }
            else
            {
                session.SetValue(key, JsonSerializer.Deserialize<RegistryValue>(before, AgentProtocol.JsonOptions)!);
            }
        }
        catch (SecurityStoreException e)
        {
            context.Log.Warning($"The AppX re-registration entry could not be undone: {e.Message}");
        }
    }
}

/// <summary>
/// Says, as items of the job's report and in its log, what Windows binds to the source account's SID and a profile
/// hand-over cannot carry over, and what the agent did about each. Changes nothing.
/// </summary>
public sealed class ReportNotCarriedOverStep : JobStep
{
    public override string Name => "ReportNotCarriedOver";

    public override Task RunAsync(JobContext context)
    {
        var source = ProfileJournal.SourceOf(context);
        var store = context.Platform.SecurityStore;
        var home = source.ProfileImagePath.TrimEnd('\\');
        var masterKeys = Count(store, $@"{home}\AppData\Roaming\Microsoft\Protect\{source.Sid}");
        var credentials = Count(store, $@"{home}\AppData\Roaming\Microsoft\Credentials") + Count(store, $@"{home}\AppData\Local\Microsoft\Credentials");
        var packages = AppxReregistration.PackagesFound(context);
        foreach (var (item, text) in new[]
        {
            ("DPAPI-protected secrets",
                $"Not carried over: {masterKeys} DPAPI master key(s) and {credentials} saved credential(s) of the source account. DPAPI seals secrets (Credential Manager, browser passwords, EFS private keys, Wi-Fi and VPN secrets saved per user) with master keys derived from the source account's SID and password; the destination account cannot open them, and the agent does not (it never holds passwords). They are lost unless the user exported them before (browser sync, a password manager, an EFS certificate backup); EFS-encrypted files stay unreadable until decrypted by the source account or a recovery agent."),
            ("Windows Hello",
                "Not carried over: Windows Hello (PIN, face, fingerprint) keys live in the TPM-bound NGC container of the source account and are never copied. The user sets up Windows Hello again after the first sign-in with the destination account (Windows offers it where policy asks for Hello)."),
            ("AppX package registrations",
                packages is null
                    ? "Not carried over: AppX (Store) package registrations belong to the source account's SID; the profile's classes hive was not open, so none were scheduled for re-registration. Store apps may need to be reinstalled."
                    : packages == 0
                    ? "No AppX package was registered for the source account: nothing to re-register."
                    : $"Not carried over as is: {packages} AppX package registration(s) belong to the source account's SID. The agent added a RunOnce entry ({AppxReregistration.ValueName}) to the profile's hive that registers them again for the destination account at its first sign-in."),
        })
        {
            context.Report(new ItemResult($"{home}: {item}", ItemOutcome.Skipped, text));
            context.Log.Information(text);
        }
        return Task.CompletedTask;
    }

    private static int Count(ISecurityStore store, string folder)
    {
        try
        {
            return store.EnumerateChildren(folder).Count();
        }
        catch (Exception e) when (e is SecurityStoreException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            return 0;
        }
    }
}
