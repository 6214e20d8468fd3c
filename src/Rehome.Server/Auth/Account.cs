namespace Rehome.Server.Auth;

/// <summary>
/// What an account may do. Each endpoint declares the least role it needs; a role may be limited to some
/// projects (<see cref="AccountProject"/>).
/// </summary>
public enum Role
{
    /// <summary>Everything: connections and their secrets, policies, accounts, and all an operator does.</summary>
    Administrator,

    /// <summary>Projects, mappings and runs; no connections, secrets or accounts.</summary>
    Operator,

    /// <summary>Reads everything an operator sees, and its reports; changes nothing.</summary>
    Viewer,

    /// <summary>Reads the audit log only.</summary>
    Auditor,
}

/// <summary>
/// A person who uses Rehome: a local account (salted PBKDF2 password hash only) or one signed in through the
/// organisation's identity provider (<see cref="ExternalIssuer"/> and <see cref="ExternalSubject"/>, no password).
/// </summary>
public sealed class Account
{
    public Guid Id { get; set; }

    public required string UserName { get; set; }

    /// <summary>Null for an account that signs in only through single sign-on.</summary>
    public string? PasswordHash { get; set; }

    public Role Role { get; set; } = Role.Administrator;

    /// <summary>Set when an administrator disables the account: it can no longer sign in, and its tokens and cookies stop working.</summary>
    public DateTimeOffset? DisabledAt { get; set; }

    /// <summary>
    /// Changes whenever what was issued to the account must stop working (password change, role change, disable):
    /// console cookies carry the stamp they were issued with and are refused once it differs.
    /// </summary>
    public string SecurityStamp { get; set; } = NewSecurityStamp();

    /// <summary>The identity provider (OpenID Connect issuer) of an account made by single sign-on.</summary>
    public string? ExternalIssuer { get; set; }

    /// <summary>The provider's stable subject identifier (<c>sub</c>, or Entra ID's <c>oid</c>) for that account.</summary>
    public string? ExternalSubject { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public static string NewSecurityStamp() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
}

/// <summary>Limits an account's role to one project; an account without any row reaches every project.</summary>
public sealed class AccountProject
{
    public Guid AccountId { get; set; }

    public Guid ProjectId { get; set; }
}

/// <summary>A personal API token. Only its SHA-256 is stored; the token itself is shown once.</summary>
public sealed class ApiToken
{
    public Guid Id { get; set; }

    public Guid AccountId { get; set; }

    public required string Name { get; set; }

    /// <summary>The first characters of the token, to recognise it in a list without revealing it.</summary>
    public required string Prefix { get; set; }

    public required string TokenHash { get; set; }

    /// <summary>A narrower role than the account's for this token (null: the account's role). Never wider.</summary>
    public Role? Scope { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? ExpiresAt { get; set; }

    public DateTimeOffset? LastUsedAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }
}
