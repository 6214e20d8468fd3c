using Rehome.Core.Validation;

namespace Rehome.Server.Api;

/// <summary>RFC 9457 problem+json answers with a stable <c>rule</c> that automation can test for.</summary>
public static class Problems
{
    private const string TypeBase = "https://rehome.dev/problems/";

    public static IResult Validation(IReadOnlyList<RuleViolation> violations, string? detail = null) => Results.Problem(
        statusCode: StatusCodes.Status400BadRequest,
        title: "The request breaks a rule",
        detail: detail ?? string.Join(" ", violations.Select(v => v.Message)),
        type: TypeBase + "validation",
        extensions: new Dictionary<string, object?> { ["rule"] = violations.FirstOrDefault()?.Rule, ["errors"] = violations });

    public static IResult Validation(string field, string rule, string message) =>
        Validation([new RuleViolation(field, rule, message)]);

    public static IResult NotFound(string what) => Results.Problem(
        statusCode: StatusCodes.Status404NotFound,
        title: "Not found",
        detail: $"{what} does not exist.",
        type: TypeBase + "not-found",
        extensions: new Dictionary<string, object?> { ["rule"] = "NotFound" });

    public static IResult Conflict(string rule, string message, IDictionary<string, object?>? extensions = null) =>
        Rule(StatusCodes.Status409Conflict, "The request conflicts with the current state", rule, message, extensions);

    public static IResult Rule(int status, string title, string rule, string message, IDictionary<string, object?>? extensions = null)
    {
        var all = new Dictionary<string, object?>(extensions ?? new Dictionary<string, object?>()) { ["rule"] = rule };
        return Results.Problem(statusCode: status, title: title, detail: message,
            type: TypeBase + ToKebab(rule), extensions: all);
    }

    private static string ToKebab(string rule) =>
        string.Concat(rule.Select((c, i) => char.IsUpper(c) && i > 0 ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
