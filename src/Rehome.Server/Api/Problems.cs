using Rehome.Core.Validation;
using Rehome.Server.Administration;

namespace Rehome.Server.Api;

/// <summary>RFC 9457 problem+json answers with a stable <c>rule</c> that automation can test for.</summary>
public static class Problems
{
    public static IResult Validation(IReadOnlyList<RuleViolation> violations, string? detail = null) => From(Failure.Validation(violations, detail));

    public static IResult Validation(string field, string rule, string message) => From(Failure.Validation(field, rule, message));

    public static IResult NotFound(string what) => From(Failure.NotFound(what));

    public static IResult Conflict(string rule, string message, IReadOnlyDictionary<string, object?>? extensions = null) =>
        From(Failure.Conflict(rule, message, extensions));

    public static IResult Rule(int status, string title, string rule, string message, IReadOnlyDictionary<string, object?>? extensions = null) =>
        From(Failure.ByRule(status, title, rule, message, extensions));

    /// <summary>A command's failure as problem+json: validation failures list their <c>errors</c>.</summary>
    public static IResult From(Failure failure)
    {
        var extensions = new Dictionary<string, object?>(failure.Extensions ?? new Dictionary<string, object?>()) { ["rule"] = failure.Rule };
        if (failure.Errors.Count > 0 || failure.Type.EndsWith("/validation", StringComparison.Ordinal))
        {
            extensions["errors"] = failure.Errors;
        }
        return Results.Problem(statusCode: failure.Status, title: failure.Title, detail: failure.Message, type: failure.Type, extensions: extensions);
    }

    /// <summary>The command's value through <paramref name="ok"/>, or its failure as problem+json.</summary>
    public static IResult ToResult<T>(this Outcome<T> outcome, Func<T, IResult> ok) =>
        outcome.Failure is { } failure ? From(failure) : ok(outcome.Value!);
}
