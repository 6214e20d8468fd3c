using Rehome.Core.Validation;

namespace Rehome.Server.Administration;

/// <summary>
/// Why an administrative command changed nothing: the API answers it as problem+json, the console shows its
/// messages next to the fields they name.
/// </summary>
public sealed record Failure(
    int Status, string Title, string Type, string Rule, string Message, IReadOnlyList<RuleViolation> Errors,
    IReadOnlyDictionary<string, object?>? Extensions = null)
{
    public const string TypeBase = "https://rehome.dev/problems/";

    public static Failure Validation(IReadOnlyList<RuleViolation> violations, string? detail = null) => new(
        StatusCodes.Status400BadRequest, "The request breaks a rule", TypeBase + "validation",
        violations.FirstOrDefault()?.Rule ?? "Validation", detail ?? string.Join(" ", violations.Select(v => v.Message)), violations);

    public static Failure Validation(string field, string rule, string message) => Validation([new RuleViolation(field, rule, message)]);

    public static Failure NotFound(string what) => new(
        StatusCodes.Status404NotFound, "Not found", TypeBase + "not-found", "NotFound", $"{what} does not exist.", []);

    public static Failure Conflict(string rule, string message, IReadOnlyDictionary<string, object?>? extensions = null) =>
        ByRule(StatusCodes.Status409Conflict, "The request conflicts with the current state", rule, message, extensions);

    public static Failure ByRule(int status, string title, string rule, string message, IReadOnlyDictionary<string, object?>? extensions = null) =>
        new(status, title, TypeBase + ToKebab(rule), rule, message, [], extensions);

    /// <summary>The messages about one field (the API's camelCase name, e.g. <c>destination.targetOu</c>), for the console.</summary>
    public string? MessageFor(string field)
    {
        var messages = Errors.Where(e => string.Equals(e.Field, field, StringComparison.OrdinalIgnoreCase)).Select(e => e.Message).ToList();
        return messages.Count == 0 ? null : string.Join(" ", messages);
    }

    private static string ToKebab(string rule) =>
        string.Concat(rule.Select((c, i) => char.IsUpper(c) && i > 0 ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}

/// <summary>An outcome whatever its value's type, for code that only looks (the telemetry's outcome labels).</summary>
public interface IOutcome
{
    Failure? Failure { get; }

    object? BoxedValue { get; }
}

/// <summary>What a command did: its value, or the <see cref="Failure"/> that says why it did nothing.</summary>
public readonly record struct Outcome<T>(T? Value, Failure? Failure) : IOutcome
{
    object? IOutcome.BoxedValue => Value;

    public bool Succeeded => Failure is null;

    public static implicit operator Outcome<T>(T value) => new(value, null);

    public static implicit operator Outcome<T>(Failure failure) => new(default, failure);
}
