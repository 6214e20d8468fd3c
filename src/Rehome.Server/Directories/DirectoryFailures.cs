using System.Net.Sockets;
using Rehome.Directory;
using Rehome.Directory.ActiveDirectory;
using Rehome.Directory.EntraId;

namespace Rehome.Server.Directories;

/// <summary>What a failed directory call means for its caller.</summary>
public enum DirectoryFailureKind
{
    /// <summary>The directory did not answer (DC down, Graph outage, network): try again with back-off.</summary>
    Unreachable,

    /// <summary>The directory asked to be left alone for a while (Retry-After): try again, not before then.</summary>
    Throttled,

    /// <summary>The directory (or its configuration here) refused for a reason waiting will not change: rights, credentials, a missing setting.</summary>
    Refused,

    /// <summary>A failure nobody classified (a bug here or in a client): not the directory's answer; callers count it against their retry window and log it.</summary>
    Defect,
}

/// <summary>One failed directory call, classified: the kind, the reason in words, the rule code answers and jobs carry, and the wait asked for.</summary>
public sealed record DirectoryFailure(DirectoryFailureKind Kind, string Reason, string Code, TimeSpan? RetryAfter = null)
{
    /// <summary>Whether waiting may change the answer.</summary>
    public bool MayRetry => Kind is DirectoryFailureKind.Unreachable or DirectoryFailureKind.Throttled;
}

/// <summary>
/// The one classification of directory failures: the gateway's directory calls, the destination preparation, the
/// readiness check and the administrators' directory commands all decide retry or refusal from it.
/// </summary>
public static class DirectoryFailures
{
    public const string UnavailableCode = "DirectoryUnavailable";
    public const string RefusedCode = "DirectoryRefused";
    public const string DefectCode = "DirectoryFailed";

    public static DirectoryFailure Classify(Exception error) => error switch
    {
        DirectoryUnavailableException { RetryAfter: { } after } => new(DirectoryFailureKind.Throttled, error.Message, UnavailableCode, after),
        DirectoryUnavailableException or HttpRequestException or SocketException or TimeoutException
            or OperationCanceledException { InnerException: TimeoutException } => new(DirectoryFailureKind.Unreachable, error.Message, UnavailableCode),
        ActiveDirectoryException or EntraIdException or DirectoryNotConfiguredException => new(DirectoryFailureKind.Refused, error.Message, RefusedCode),
        // The directory library's own InvalidOperationExceptions say a connection lacks a part ("needs a secret or a
        // certificate", Samba's net command missing): configuration, which waiting will not change. Any other one (a
        // disposed object, a context used twice) is a defect, counted against the retry window like an outage.
        InvalidOperationException and not ObjectDisposedException when error.TargetSite?.DeclaringType?.Assembly == typeof(EntraIdException).Assembly
            => new(DirectoryFailureKind.Refused, error.Message, RefusedCode),
        _ => new(DirectoryFailureKind.Defect, error.Message, DefectCode),
    };
}
