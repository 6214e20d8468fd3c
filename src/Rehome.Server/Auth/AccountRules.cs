using Rehome.Core.Connections;
using Rehome.Core.Validation;
using Rehome.Server.Administration;

namespace Rehome.Server.Auth;

/// <summary>What an administrator's change would take from an account's access to administration.</summary>
public enum AccessLoss
{
    Disable,
    Delete,
    Demote,
}

/// <summary>
/// The rules of accounts, as plain functions: the API, the console and the CLI (through the API) get the same
/// answer, each saying which rule and why.
/// </summary>
public static class AccountRules
{
    public const int UserNameMaxLength = 100;

    /// <summary>
    /// A user name: letters, digits and <c>. _ - @</c>, so that it reads the same in every list, log and audit
    /// entry (no spaces or control characters to disguise one account as another).
    /// </summary>
    public static void CheckUserName(string field, string? userName, RuleViolations violations)
    {
        if (!violations.Require(field, userName, "The user name"))
        {
            return;
        }
        var name = userName!.Trim();
        violations.MaxLength(field, name, UserNameMaxLength, "The user name");
        if (!name.All(IsUserNameCharacter))
        {
            violations.Add(field, "UserNameCharacters", "A user name holds letters, digits and . _ - @ only.");
        }
    }

    /// <summary>What a user name may hold: letters, digits and <c>. _ - @</c> (the names single sign-on makes follow it too).</summary>
    public static bool IsUserNameCharacter(char c) => char.IsLetterOrDigit(c) || c is '.' or '_' or '-' or '@';

    /// <summary>A new password (set by its owner or by an administrator): the one strength rule of every password.</summary>
    public static void CheckPassword(string field, string? password, string? userName, RuleViolations violations) =>
        PasswordRules.Check(field, password ?? "", userName, violations);

    /// <summary>
    /// Whether an administrator may disable, delete or demote <paramref name="target"/>: Rehome keeps at least one
    /// enabled administrator (else nobody could manage accounts again), and nobody removes their own access
    /// (another administrator does it, so that a slip cannot lock the last person out).
    /// </summary>
    /// <param name="actorId">The administrator making the change.</param>
    /// <param name="target">The account changed.</param>
    /// <param name="loss">What the change takes away.</param>
    /// <param name="otherEnabledAdministrators">Enabled administrators other than <paramref name="target"/>.</param>
    public static Failure? CheckAccessLoss(Guid actorId, Account target, AccessLoss loss, int otherEnabledAdministrators)
    {
        var verb = loss switch { AccessLoss.Disable => "disabled", AccessLoss.Delete => "deleted", _ => "given another role" };
        if (target.Role == Role.Administrator && target.DisabledAt is null && otherEnabledAdministrators == 0)
        {
            return Failure.Conflict("LastAdministrator",
                $"'{target.UserName}' is the last enabled administrator and cannot be {verb}: make another administrator first.");
        }
        if (target.Id == actorId)
        {
            return Failure.Conflict("OwnAccount", $"Your own account cannot be {verb} by you: ask another administrator.");
        }
        return null;
    }
}
