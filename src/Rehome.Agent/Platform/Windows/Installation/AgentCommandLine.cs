namespace Rehome.Agent.Platform.Windows.Installation;

/// <summary><c>rehome-agent install --server-url URL --configuration-key KEY [--poll-seconds N] [--delayed-start]</c>.</summary>
internal sealed record InstallArguments(string ServerUrl, string ConfigurationKey, int? PollSeconds, bool DelayedAutoStart);

/// <summary>One of the agent's own commands; anything else on the command line is the host's (configuration overrides).</summary>
internal abstract record AgentCommand
{
    public sealed record Install(InstallArguments Arguments) : AgentCommand;

    public sealed record Uninstall(bool KeepData) : AgentCommand;

    /// <summary>Hidden: runs the Windows platform's calls once each and prints one JSON line per probe.</summary>
    public sealed record SelfTest(string? AllowListPath, string? Scratch) : AgentCommand;

    /// <summary>The arguments are wrong; <see cref="Message"/> says how and shows the usage.</summary>
    public sealed record Invalid(string Message) : AgentCommand;
}

/// <summary>Parses the agent's few commands by hand (the agent references no command-line library).</summary>
internal static class AgentCommandLine
{
    public const string Usage = """
        Usage:
          rehome-agent install --server-url URL --configuration-key KEY [--poll-seconds N] [--delayed-start]
          rehome-agent uninstall [--keep-data]
        Without a command the agent runs (as the RehomeAgent service).
        """;

    /// <summary>The command in <paramref name="args"/>, or null when they are for the host (run the agent).</summary>
    public static AgentCommand? Parse(IReadOnlyList<string> args)
    {
        if (args.Count == 0)
        {
            return null;
        }

        var rest = args.Skip(1).ToList();
        return args[0].ToLowerInvariant() switch
        {
            "install" => ParseInstall(rest),
            "uninstall" => ParseUninstall(rest),
            "selftest" => ParseSelfTest(rest),
            "help" or "--help" or "-h" or "/?" => Invalid("Rehome agent."),
            _ => null,
        };
    }

    private static AgentCommand ParseUninstall(List<string> args)
    {
        var (_, flags, error) = ParseOptions(args, [], ["--keep-data"]);
        return error is null ? new AgentCommand.Uninstall(flags.Contains("--keep-data")) : Invalid(error);
    }

    private static AgentCommand ParseSelfTest(List<string> args)
    {
        var (values, _, error) = ParseOptions(args, ["--allow-list", "--scratch"], []);
        return error is null ? new AgentCommand.SelfTest(values.GetValueOrDefault("--allow-list"), values.GetValueOrDefault("--scratch")) : Invalid(error);
    }

    private static AgentCommand ParseInstall(List<string> args)
    {
        var (values, flags, error) = ParseOptions(args, ["--server-url", "--configuration-key", "--poll-seconds"], ["--delayed-start"]);
        if (error is not null)
        {
            return Invalid(error);
        }

        if (!values.TryGetValue("--server-url", out var url) || !Uri.TryCreate(url, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            return Invalid("install needs --server-url with the Rehome server's address (https://…).");
        }

        if (!values.TryGetValue("--configuration-key", out var key) || string.IsNullOrWhiteSpace(key))
        {
            return Invalid("install needs --configuration-key with the source connection's configuration key.");
        }

        int? pollSeconds = null;
        if (values.TryGetValue("--poll-seconds", out var text))
        {
            if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds) || seconds is < 1 or > 300)
            {
                return Invalid("--poll-seconds must be a whole number of seconds from 1 to 300.");
            }

            pollSeconds = seconds;
        }

        return new AgentCommand.Install(new InstallArguments(url, key.Trim(), pollSeconds, flags.Contains("--delayed-start")));
    }

    /// <summary>Options with a value (<c>--name value</c> or <c>--name=value</c>) and flags; an unknown one is an error.</summary>
    private static (Dictionary<string, string> Values, HashSet<string> Flags, string? Error) ParseOptions(
        List<string> args, string[] valued, string[] flagNames)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var flags = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < args.Count; i++)
        {
            var (name, inline) = args[i].IndexOf('=', StringComparison.Ordinal) is var eq and > 0 ? (args[i][..eq], args[i][(eq + 1)..]) : (args[i], null);
            if (valued.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                var value = inline ?? (i + 1 < args.Count ? args[++i] : null);
                if (value is null)
                {
                    return (values, flags, $"{name} needs a value.");
                }

                values[name.ToLowerInvariant()] = value;
            }
            else if (inline is null && flagNames.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                flags.Add(name.ToLowerInvariant());
            }
            else
            {
                // Never echo the argument itself: it may be a secret typed in the wrong place.
                return (values, flags, $"Unknown option at position {i + 2}.");
            }
        }

        return (values, flags, null);
    }

    private static AgentCommand.Invalid Invalid(string message) => new($"{message}\n{Usage}");
}
