namespace Rehome.Server.Auth;

/// <summary>A person who administers Rehome. The password is stored as a salted PBKDF2 hash only.</summary>
public sealed class AdministratorAccount
{
    public Guid Id { get; set; }

    public required string UserName { get; set; }

    public required string PasswordHash { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
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

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? ExpiresAt { get; set; }

    public DateTimeOffset? LastUsedAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }
}
