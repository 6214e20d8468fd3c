using Rehome.Security.Sids;

namespace Rehome.Security.Reacl;

/// <summary>What kind of account a directory identity is; mappings only pair identities of the same kind.</summary>
public enum IdentityKind
{
    User,
    Group,
}

/// <summary>
/// A user or group of the source or destination directory; <c>Domain</c> is its domain's name as the policy's domain
/// mappings write it (NetBIOS or DNS).
/// </summary>
public sealed record DirectoryIdentity(SecurityIdentifier Sid, string SamAccountName, string? UserPrincipalName, IdentityKind Kind, string Domain);

/// <summary>
/// An explicit mapping of the policy. Each side names an identity by SID string, user principal name or
/// sAMAccountName (optionally DOMAIN\name).
/// </summary>
public sealed record ExplicitMapping(string Source, string Destination);

/// <summary>A domain mapping: source identities of <paramref name="SourceDomain"/> pair with the destination identity of the same sAMAccountName in <paramref name="DestinationDomain"/>.</summary>
public sealed record DomainMapping(string SourceDomain, string DestinationDomain);

/// <summary>The Re-ACL identity rules of a migration policy.</summary>
public sealed record IdentityMappingPolicy
{
    /// <summary>Explicit user and group mappings; they win over every automatic rule.</summary>
    public IReadOnlyList<ExplicitMapping> ExplicitMappings { get; init; } = [];

    /// <summary>Pair users whose user principal names have the same prefix (the part before '@').</summary>
    public bool UpnPrefixAutoMapping { get; init; }

    public IReadOnlyList<DomainMapping> DomainMappings { get; init; } = [];
}

/// <summary>A source identity that was left out of the SID map, and why.</summary>
public sealed record UnmappedIdentity(SecurityIdentifier Sid, string Name, string Reason);

/// <summary>A policy rule that could not be applied at all (an explicit mapping naming nobody), and why.</summary>
public sealed record MappingProblem(ExplicitMapping Mapping, string Reason);

/// <summary>The SID map built from a policy and both directories.</summary>
public sealed record IdentityMappingResult(SidMap Map, IReadOnlyList<UnmappedIdentity> Unmapped, IReadOnlyList<MappingProblem> Problems);
