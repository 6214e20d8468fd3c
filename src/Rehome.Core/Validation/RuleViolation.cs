namespace Rehome.Core.Validation;

/// <summary>
/// One broken rule on one field of an input: what the API answers as a problem+json error, what the console
/// shows next to the field, and what the CLI prints.
/// </summary>
/// <param name="Field">The field the rule is about, in the API's camelCase (e.g. <c>destination.targetOu</c>).</param>
/// <param name="Rule">A stable rule name that automation can test for (e.g. <c>PasswordComplexity</c>).</param>
/// <param name="Message">A sentence a person understands.</param>
public sealed record RuleViolation(string Field, string Rule, string Message);

/// <summary>Collects violations while a validator walks its input.</summary>
public sealed class RuleViolations
{
    private readonly List<RuleViolation> _items = [];

    public IReadOnlyList<RuleViolation> Items => _items;

    public bool Any => _items.Count > 0;

    public void Add(string field, string rule, string message) => _items.Add(new RuleViolation(field, rule, message));

    /// <summary>Adds a Required violation when <paramref name="value"/> is empty or white space.</summary>
    public bool Require(string field, string? value, string what)
    {
        if (!string.IsNullOrWhiteSpace(value))
        {
            return true;
        }
        Add(field, "Required", $"{what} is required.");
        return false;
    }

    /// <summary>Adds a MaxLength violation when <paramref name="value"/> is longer than <paramref name="max"/>.</summary>
    public void MaxLength(string field, string? value, int max, string what)
    {
        if (value is not null && value.Length > max)
        {
            Add(field, "MaxLength", $"{what} is longer than {max} characters.");
        }
    }
}
