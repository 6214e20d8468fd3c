using System.Text.RegularExpressions;
using Rehome.Core.Connections;
using Rehome.Core.Validation;

namespace Rehome.Core.Mappings;

/// <summary>What makes a mapping valid on its own (uniqueness across projects is the store's to check).</summary>
public static partial class MappingRules
{
    /// <summary>NetBIOS computer names have at most 15 characters.</summary>
    public const int ComputerNameMaxLength = 15;

    /// <summary>An OU's distinguished name or a user name: far more than any real one.</summary>
    public const int FieldMaxLength = 1024;

    public static IReadOnlyList<RuleViolation> Validate(MappingInput input)
    {
        var violations = new RuleViolations();
        if (violations.Require("sourceDevice", input.SourceDevice, "The source device name"))
        {
            CheckComputerName("sourceDevice", input.SourceDevice!.Trim(), "source device name", violations);
        }
        // A destination name equal to the source name (the default) was checked as the source name already.
        if (!string.IsNullOrWhiteSpace(input.DestinationName) &&
            !string.Equals(input.DestinationName.Trim(), input.SourceDevice?.Trim(), StringComparison.OrdinalIgnoreCase))
        {
            CheckComputerName("destinationName", input.DestinationName.Trim(), "destination name", violations);
        }
        if (!string.IsNullOrWhiteSpace(input.DestinationOu) && !DistinguishedNames.IsValid(input.DestinationOu.Trim()))
        {
            violations.Add("destinationOu", "DistinguishedName",
                $"'{input.DestinationOu}' is not a distinguished name such as OU=Computers,DC=corp,DC=example,DC=com.");
        }
        foreach (var (field, value) in new[]
                 {
                     ("sourceDevice", input.SourceDevice), ("destinationName", input.DestinationName), ("destinationOu", input.DestinationOu),
                     ("primaryUser", input.PrimaryUser), ("destinationUser", input.DestinationUser),
                 })
        {
            violations.Text(field, value, FieldMaxLength, $"The {field}");
        }
        CheckUser("primaryUser", input.PrimaryUser, violations);
        CheckUser("destinationUser", input.DestinationUser, violations);
        if (string.IsNullOrWhiteSpace(input.PrimaryUser) != string.IsNullOrWhiteSpace(input.DestinationUser))
        {
            violations.Add(string.IsNullOrWhiteSpace(input.PrimaryUser) ? "primaryUser" : "destinationUser", "UserPair",
                "The primary user and the destination user go together: give both or neither.");
        }
        return violations.Items;
    }

    /// <summary>Applies the defaults: trimmed values, destination name = source name.</summary>
    public static MappingInput Normalise(MappingInput input) => new()
    {
        SourceDevice = input.SourceDevice?.Trim(),
        DestinationName = string.IsNullOrWhiteSpace(input.DestinationName) ? input.SourceDevice?.Trim() : input.DestinationName.Trim(),
        DestinationOu = NullIfBlank(input.DestinationOu),
        PrimaryUser = NullIfBlank(input.PrimaryUser),
        DestinationUser = NullIfBlank(input.DestinationUser),
    };

    private static string? NullIfBlank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static void CheckComputerName(string field, string name, string what, RuleViolations violations)
    {
        if (name.Length > ComputerNameMaxLength)
        {
            violations.Add(field, "ComputerName", $"The {what} is longer than {ComputerNameMaxLength} characters.");
        }
        else if (!ComputerName().IsMatch(name))
        {
            violations.Add(field, "ComputerName",
                $"The {what} '{name}' may hold only letters, digits and hyphens, and cannot be only digits.");
        }
    }

    private static void CheckUser(string field, string? user, RuleViolations violations)
    {
        if (string.IsNullOrWhiteSpace(user))
        {
            return;
        }
        var value = user.Trim();
        var isUpn = value.Count(c => c == '@') == 1 && value[0] != '@' && value[^1] != '@';
        var isDownLevel = value.Count(c => c == '\\') == 1 && value[0] != '\\' && value[^1] != '\\';
        if (!isUpn && !isDownLevel)
        {
            violations.Add(field, "UserName", $"'{value}' is neither user@domain nor DOMAIN\\user.");
        }
    }

    [GeneratedRegex(@"^(?![0-9]+$)[A-Za-z0-9-]+$")]
    private static partial Regex ComputerName();
}
