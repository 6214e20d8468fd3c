using System.Runtime.Versioning;
using System.Text.Json;

namespace Rehome.Agent.Platform.Windows.SelfTest;

/// <summary>Where the probes may write: a throwaway folder, and a name for throwaway registry keys and services.</summary>
internal sealed record SelfTestContext(string Scratch);

/// <summary>One group of probes over one area of the Windows platform. Add a class per new area and list it in <see cref="SelfTestRunner.Groups"/>.</summary>
internal interface ISelfTestProbes
{
    /// <summary>Each probe: a stable name (the allow-list uses it) and a call that returns a short detail or throws.</summary>
    IEnumerable<(string Name, Func<string> Run)> Probes(SelfTestContext context);
}

/// <summary>
/// <c>rehome-agent selftest</c> (hidden): calls the Windows platform's code once per probe and prints one JSON line per
/// probe, <c>{"probe":…,"outcome":"ok|failed|allowed-missing","detail":…}</c>. Run under Wine by the tests, so that a
/// misspelled entry point, a marshalling crash or a Windows-only path that throws is caught on Linux; the probes Wine
/// cannot run (stubs, missing entry points, faked file ACLs) are named with the reason in the allow-list file passed
/// with <c>--allow-list</c>, and reported as allowed-missing. Exit code 0 when no probe failed outside the list.
/// </summary>
[SupportedOSPlatform("windows")]
internal static class SelfTestRunner
{
    /// <summary>Every probe group, in the order they run.</summary>
    public static IReadOnlyList<ISelfTestProbes> Groups { get; } =
    [
        new RegistryProbes(),
        new HiveProbes(),
        new SecurityProbes(),
        new MembershipProbes(),
        new InstallationProbes(),
        new CommandProbes(),
        new PlatformProbes(),
    ];

    public static int Run(string? allowListPath, string? scratch, TextWriter output)
    {
        var allowed = allowListPath is null ? new Dictionary<string, string>() : ProbeAllowList.Read(File.ReadAllLines(allowListPath));
        var folder = scratch ?? Path.Combine(Path.GetTempPath(), "rehome-selftest-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var context = new SelfTestContext(folder);
        var failed = 0;
        foreach (var group in Groups)
        {
            foreach (var (name, run) in group.Probes(context))
            {
                string outcome;
                string detail;
                try
                {
                    detail = run();
                    outcome = "ok";
                }
#pragma warning disable CA1031 // A probe reports every failure, whatever it is, and the next probe runs.
                catch (Exception e)
#pragma warning restore CA1031
                {
                    var error = $"{e.GetType().Name}: {e.Message}";
                    if (allowed.TryGetValue(name, out var reason))
                    {
                        (outcome, detail) = ("allowed-missing", $"{reason} ({error})");
                    }
                    else
                    {
                        (outcome, detail) = ("failed", error);
                        failed++;
                    }
                }

                output.WriteLine(JsonSerializer.Serialize(new ProbeLine(name, outcome, detail), SelfTestJson.Default.ProbeLine));
            }
        }

        if (scratch is null)
        {
            Directory.Delete(folder, recursive: true);
        }

        return failed == 0 ? 0 : 1;
    }
}

/// <summary>The probes a platform is allowed to fail, each with the reason (the Wine test's allow-list).</summary>
internal static class ProbeAllowList
{
    /// <summary>Lines <c>probe-name reason…</c>; blank lines and lines starting with # are ignored.</summary>
    public static Dictionary<string, string> Read(IEnumerable<string> lines)
    {
        var entries = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var space = line.IndexOfAny([' ', '\t']);
            entries[space < 0 ? line : line[..space]] = space < 0 ? "" : line[(space + 1)..].Trim();
        }

        return entries;
    }
}

/// <summary>One printed probe result.</summary>
internal sealed record ProbeLine(string Probe, string Outcome, string Detail);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
[System.Text.Json.Serialization.JsonSerializable(typeof(ProbeLine))]
internal sealed partial class SelfTestJson : System.Text.Json.Serialization.JsonSerializerContext;
