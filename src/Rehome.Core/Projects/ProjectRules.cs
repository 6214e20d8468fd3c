using Rehome.Core.Connections;
using Rehome.Core.Validation;

namespace Rehome.Core.Projects;

/// <summary>What makes a project valid: its connections must exist and play the right roles.</summary>
public static class ProjectRules
{
    public const int NameMaxLength = 100;
    public const int MaxTags = 20;
    public const int TagMaxLength = 50;

    public static IReadOnlyList<RuleViolation> Validate(
        string? name, IReadOnlyList<string>? tags, Connection? source, Connection? destination, bool policyExists)
    {
        var violations = new RuleViolations();
        if (violations.Require("name", name, "The project name"))
        {
            violations.Text("name", name, NameMaxLength, "The project name");
        }
        if (tags is { Count: > MaxTags })
        {
            violations.Add("tags", "TooMany", $"A project has at most {MaxTags} tags.");
        }
        else if (tags is not null && tags.Any(t => string.IsNullOrWhiteSpace(t) || t.Length > TagMaxLength))
        {
            violations.Add("tags", "Tag", $"Each tag has 1 to {TagMaxLength} characters.");
        }
        else
        {
            for (var i = 0; i < (tags?.Count ?? 0); i++)
            {
                violations.Text($"tags[{i}]", tags![i], TagMaxLength, $"Tag {i + 1}");
            }
        }
        if (source is null)
        {
            violations.Add("sourceConnectionId", "NotFound", "The source connection does not exist.");
        }
        else if (source.Role != ConnectionRole.Source)
        {
            violations.Add("sourceConnectionId", "WrongRole", $"The connection '{source.Name}' is a destination, not a source.");
        }
        if (destination is null)
        {
            violations.Add("destinationConnectionId", "NotFound", "The destination connection does not exist.");
        }
        else if (destination.Role != ConnectionRole.Destination)
        {
            violations.Add("destinationConnectionId", "WrongRole", $"The connection '{destination.Name}' is a source, not a destination.");
        }
        if (!policyExists)
        {
            violations.Add("policyId", "NotFound", "The migration policy does not exist.");
        }
        return violations.Items;
    }
}
