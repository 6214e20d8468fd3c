using Rehome.Cli.Client;

namespace Rehome.Cli.Commands;

/// <summary>
/// The one set of exit codes every command uses, so a script can tell "the server said no" from "it was not
/// reachable" without reading the text. Listed in <c>rehome --help</c> and the README.
/// </summary>
public static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Ok = 0;

    /// <summary>Done, and the answer is "no": a check failed, a test message was not delivered, a watched run has failed jobs.</summary>
    public const int CheckFailed = 1;

    /// <summary>Refused: the server refused the request (problem+json, each field named) or the CLI refused the input before sending it.</summary>
    public const int Refused = 2;

    /// <summary>The command line does not parse: an unknown command or option, a missing argument, a value of the wrong type.</summary>
    public const int Usage = 3;

    /// <summary>Not signed in (no token, or the server refused it) or not allowed (the role or the project limit).</summary>
    public const int NotAllowed = 4;

    /// <summary>What the command names does not exist (or is hidden from this account).</summary>
    public const int NotFound = 5;

    /// <summary>The server is unreachable, busy (503, 429) or failing (5xx): try again later.</summary>
    public const int Unavailable = 6;

    /// <summary>Each code with what it means, for the help text.</summary>
    public static readonly IReadOnlyList<(int Code, string Meaning)> All =
    [
        (Ok, "done"),
        (CheckFailed, "done, and the answer is no: a check failed, a test message was not delivered, a watched run has failed jobs"),
        (Refused, "refused by the server (each field and rule shown) or by the CLI before sending"),
        (Usage, "the command line does not parse (unknown command or option, missing argument)"),
        (NotAllowed, "not signed in, or the account's role or project limits do not allow it"),
        (NotFound, "what the command names does not exist"),
        (Unavailable, "the server is unreachable, busy or failing: try again later"),
    ];

    /// <summary>The exit code of an error answer.</summary>
    public static int Of(ApiException e) => e.Status switch
    {
        401 or 403 => NotAllowed,
        404 => NotFound,
        429 or >= 500 => Unavailable,
        _ => Refused,
    };

    /// <summary>The exit code of an error, by what kind of error it is.</summary>
    public static int Of(Exception e) => e switch
    {
        CliException cli => cli.ExitCode,
        ApiException api => Of(api),
        HttpRequestException or TimeoutException => Unavailable,
        // HttpClient's own timeout (the command's cancellation is not an error of the server).
        TaskCanceledException { InnerException: TimeoutException } => Unavailable,
        _ => Refused,
    };
}
