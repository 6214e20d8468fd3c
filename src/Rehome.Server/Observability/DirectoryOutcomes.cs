using Rehome.Protocol;
using Rehome.Server.Directories;

namespace Rehome.Server.Observability;

/// <summary>
/// The outcome label of a directory call on <c>rehome.directory.calls</c>: a handful of values an alert can
/// name. <c>refused</c> is what retrying will not change (rights, configuration, a policy's answer);
/// <c>unavailable</c> is an outage the job waits out with back-off.
/// </summary>
public static class DirectoryOutcomes
{
    public const string Ok = "ok";
    public const string Refused = "refused";
    public const string Unavailable = "unavailable";
    public const string Pending = "pending";
    public const string Cancelled = "cancelled";
    public const string Failed = "failed";

    /// <summary>The label of a call that threw (the same split the callers' back-off makes).</summary>
    public static string Of(Exception error) => error is OperationCanceledException ? Cancelled : DirectoryFailures.Classify(error).Kind switch
    {
        DirectoryFailureKind.Refused => Refused,
        DirectoryFailureKind.Unreachable or DirectoryFailureKind.Throttled => Unavailable,
        _ => Failed,
    };

    /// <summary>The label of a call that answered: some answers are refusals or waits in words, not exceptions.</summary>
    public static string Of(object? answer) => answer switch
    {
        // The gateway's calls answer HTTP results: a refusal's status, or the directory's answer as the value.
        IStatusCodeHttpResult { StatusCode: >= 400 } => Refused,
        // The gateway's directory calls answer a command's outcome: a refusal, or the directory's answer as its value.
        Rehome.Server.Administration.IOutcome { Failure: not null } => Refused,
        Rehome.Server.Administration.IOutcome { BoxedValue: { } value } => Of(value),
        IValueHttpResult { Value: { } value } => Of(value),
        DestinationPreparation { Ready: false, FailureCode: not null } => Refused,
        DestinationPreparation { Ready: false } => Pending,
        ReturnTicket { ProvisioningData: null } => Refused,
        DirectoryActionAnswer { State: DirectoryActionState.Failed } => Refused,
        DirectoryActionAnswer { State: DirectoryActionState.Pending } => Pending,
        _ => Ok,
    };
}
