namespace Rehome.Security.Sids;

/// <summary>
/// Well-known SIDs and their two-letter SDDL aliases. Domain-relative aliases (DA, DU, …) need the domain SID
/// of the descriptor's context to be resolved.
/// </summary>
public static class WellKnownSids
{
    private static readonly (string Alias, string Sid)[] FixedAliases =
    [
        ("WD", "S-1-1-0"), ("CO", "S-1-3-0"), ("CG", "S-1-3-1"), ("OW", "S-1-3-4"),
        ("NU", "S-1-5-2"), ("IU", "S-1-5-4"), ("SU", "S-1-5-6"), ("AN", "S-1-5-7"), ("ED", "S-1-5-9"),
        ("PS", "S-1-5-10"), ("AU", "S-1-5-11"), ("RC", "S-1-5-12"), ("SY", "S-1-5-18"), ("LS", "S-1-5-19"),
        ("NS", "S-1-5-20"), ("WR", "S-1-5-33"), ("BA", "S-1-5-32-544"), ("BU", "S-1-5-32-545"),
        ("BG", "S-1-5-32-546"), ("PU", "S-1-5-32-547"), ("AO", "S-1-5-32-548"), ("SO", "S-1-5-32-549"),
        ("PO", "S-1-5-32-550"), ("BO", "S-1-5-32-551"), ("RE", "S-1-5-32-552"), ("RU", "S-1-5-32-554"),
        ("RD", "S-1-5-32-555"), ("NO", "S-1-5-32-556"), ("MU", "S-1-5-32-558"), ("LU", "S-1-5-32-559"),
        ("IS", "S-1-5-32-568"), ("CY", "S-1-5-32-569"), ("ER", "S-1-5-32-573"), ("CD", "S-1-5-32-574"),
        ("RA", "S-1-5-32-575"), ("ES", "S-1-5-32-576"), ("MS", "S-1-5-32-577"), ("HA", "S-1-5-32-578"),
        ("AA", "S-1-5-32-579"), ("RM", "S-1-5-32-580"), ("AC", "S-1-15-2-1"), ("SS", "S-1-18-2"),
        ("AS", "S-1-18-1"), ("LW", "S-1-16-4096"), ("ME", "S-1-16-8192"), ("MP", "S-1-16-8448"),
        ("HI", "S-1-16-12288"), ("SI", "S-1-16-16384"), ("UD", "S-1-5-84-0-0-0-0-0"),
    ];

    private static readonly (string Alias, uint Rid)[] DomainAliases =
    [
        ("LA", 500), ("LG", 501), ("DA", 512), ("DU", 513), ("DG", 514), ("DC", 515), ("DD", 516),
        ("CA", 517), ("SA", 518), ("EA", 519), ("PA", 520), ("RO", 498), ("CN", 522), ("AP", 525),
        ("KA", 526), ("EK", 527), ("RS", 553),
    ];

    private static readonly Dictionary<string, SecurityIdentifier> SidByAlias =
        FixedAliases.ToDictionary(entry => entry.Alias, entry => SecurityIdentifier.Parse(entry.Sid), StringComparer.Ordinal);

    private static readonly Dictionary<SecurityIdentifier, string> AliasBySid =
        FixedAliases.ToDictionary(entry => SecurityIdentifier.Parse(entry.Sid), entry => entry.Alias);

    private static readonly Dictionary<string, uint> RidByAlias =
        DomainAliases.ToDictionary(entry => entry.Alias, entry => entry.Rid, StringComparer.Ordinal);

    private static readonly Dictionary<uint, string> AliasByRid = DomainAliases.ToDictionary(entry => entry.Rid, entry => entry.Alias);

    /// <summary>Everyone (S-1-1-0).</summary>
    public static SecurityIdentifier Everyone { get; } = SecurityIdentifier.Parse("S-1-1-0");

    /// <summary>Local System (S-1-5-18).</summary>
    public static SecurityIdentifier LocalSystem { get; } = SecurityIdentifier.Parse("S-1-5-18");

    /// <summary>Builtin Administrators (S-1-5-32-544).</summary>
    public static SecurityIdentifier BuiltinAdministrators { get; } = SecurityIdentifier.Parse("S-1-5-32-544");

    /// <summary>Builtin Users (S-1-5-32-545).</summary>
    public static SecurityIdentifier BuiltinUsers { get; } = SecurityIdentifier.Parse("S-1-5-32-545");

    /// <summary>Authenticated Users (S-1-5-11).</summary>
    public static SecurityIdentifier AuthenticatedUsers { get; } = SecurityIdentifier.Parse("S-1-5-11");

    /// <summary>Creator Owner (S-1-3-0).</summary>
    public static SecurityIdentifier CreatorOwner { get; } = SecurityIdentifier.Parse("S-1-3-0");

    /// <summary>
    /// Resolves an SDDL alias; domain-relative aliases need <paramref name="domain"/>. Returns null for an
    /// unknown alias or a domain alias without a domain.
    /// </summary>
    public static SecurityIdentifier? FromAlias(string alias, SecurityIdentifier? domain)
    {
        if (SidByAlias.TryGetValue(alias, out var sid))
        {
            return sid;
        }

        return domain is not null && RidByAlias.TryGetValue(alias, out var rid) ? domain.WithRid(rid) : null;
    }

    /// <summary>Whether <paramref name="alias"/> is a domain-relative alias such as DA or DU.</summary>
    public static bool IsDomainAlias(string alias) => RidByAlias.ContainsKey(alias);

    /// <summary>The SDDL alias of <paramref name="sid"/> (domain-relative ones only within <paramref name="domain"/>), or null.</summary>
    public static string? ToAlias(SecurityIdentifier sid, SecurityIdentifier? domain)
    {
        ArgumentNullException.ThrowIfNull(sid);
        if (AliasBySid.TryGetValue(sid, out var alias))
        {
            return alias;
        }

        if (domain is not null && sid.SubAuthorityCount == domain.SubAuthorityCount + 1 && sid.AccountDomain == domain
            && AliasByRid.TryGetValue(sid.Rid, out alias))
        {
            return alias;
        }

        return null;
    }
}
