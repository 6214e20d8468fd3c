using Rehome.Security.Sids;

namespace Rehome.Security.Reacl;

/// <summary>
/// Builds the SID map from a policy and the identities of both directories: explicit mappings first, then user
/// principal name prefixes, then domain mappings by sAMAccountName. Every source identity ends up mapped or listed
/// as unmapped with the reason.
/// </summary>
public static class IdentityMapper
{
    public static IdentityMappingResult Build(IdentityMappingPolicy policy, IReadOnlyList<DirectoryIdentity> source, IReadOnlyList<DirectoryIdentity> destination)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        var sourceIndex = new IdentityIndex(source);
        var destinationIndex = new IdentityIndex(destination);
        var map = new SidMap();
        var decided = new HashSet<SecurityIdentifier>();
        var unmapped = new List<UnmappedIdentity>();
        var problems = new List<MappingProblem>();

        foreach (var mapping in policy.ExplicitMappings)
        {
            var from = sourceIndex.Find(mapping.Source, out var sourceProblem);
            if (from is null)
            {
                problems.Add(new MappingProblem(mapping, $"source '{mapping.Source}' {sourceProblem}"));
                continue;
            }

            if (!decided.Add(from.Sid))
            {
                problems.Add(new MappingProblem(mapping, $"source '{mapping.Source}' is already mapped by an earlier explicit mapping"));
                continue;
            }

            var to = destinationIndex.Find(mapping.Destination, out var destinationProblem);
            if (to is null)
            {
                unmapped.Add(new UnmappedIdentity(from.Sid, Name(from), $"explicit mapping: destination '{mapping.Destination}' {destinationProblem}"));
            }
            else if (to.Kind != from.Kind)
            {
                unmapped.Add(new UnmappedIdentity(from.Sid, Name(from), $"explicit mapping pairs a {Describe(from.Kind)} with the {Describe(to.Kind)} {Name(to)}"));
            }
            else
            {
                map.Add(from.Sid, to.Sid);
            }
        }

        var domainMappings = policy.DomainMappings.ToDictionary(mapping => mapping.SourceDomain, mapping => mapping.DestinationDomain, StringComparer.OrdinalIgnoreCase);
        foreach (var identity in source)
        {
            if (decided.Contains(identity.Sid))
            {
                continue;
            }

            decided.Add(identity.Sid);
            var reasons = new List<string>();
            var match = policy.UpnPrefixAutoMapping && identity.Kind == IdentityKind.User
                ? MatchByUpnPrefix(identity, destinationIndex, reasons)
                : null;
            if (match is null)
            {
                if (domainMappings.TryGetValue(identity.Domain, out var destinationDomain))
                {
                    match = MatchByDomain(identity, destinationDomain, destinationIndex, reasons);
                }
                else
                {
                    reasons.Add($"no domain mapping for {identity.Domain}");
                }
            }

            if (match is not null)
            {
                map.Add(identity.Sid, match.Sid);
            }
            else
            {
                if (!policy.UpnPrefixAutoMapping && identity.Kind == IdentityKind.User)
                {
                    reasons.Insert(0, "UPN prefix auto-mapping is off");
                }

                unmapped.Add(new UnmappedIdentity(identity.Sid, Name(identity), "no explicit mapping; " + string.Join("; ", reasons)));
            }
        }

        return new IdentityMappingResult(map, unmapped, problems);
    }

    private static DirectoryIdentity? MatchByUpnPrefix(DirectoryIdentity identity, IdentityIndex destination, List<string> reasons)
    {
        var prefix = UpnPrefix(identity.UserPrincipalName);
        if (prefix is null)
        {
            reasons.Add("the user has no UPN");
            return null;
        }

        var candidates = destination.ByUpnPrefix(prefix);
        if (candidates.Count == 1)
        {
            return candidates[0];
        }

        reasons.Add(candidates.Count == 0
            ? $"no destination user has the UPN prefix '{prefix}'"
            : $"UPN prefix '{prefix}' is ambiguous: {string.Join(", ", candidates.Select(Name))}");
        return null;
    }

    private static DirectoryIdentity? MatchByDomain(DirectoryIdentity identity, string destinationDomain, IdentityIndex destination, List<string> reasons)
    {
        var candidate = destination.ByAccount(destinationDomain, identity.SamAccountName);
        if (candidate is null)
        {
            reasons.Add($"no {Describe(identity.Kind)} {destinationDomain}\\{identity.SamAccountName} in the destination");
            return null;
        }

        if (candidate.Kind != identity.Kind)
        {
            reasons.Add($"{Name(candidate)} in the destination is a {Describe(candidate.Kind)}, not a {Describe(identity.Kind)}");
            return null;
        }

        return candidate;
    }

    private static string? UpnPrefix(string? userPrincipalName)
    {
        var at = userPrincipalName?.IndexOf('@', StringComparison.Ordinal) ?? -1;
        return at > 0 ? userPrincipalName![..at] : null;
    }

    private static string Name(DirectoryIdentity identity) => $"{identity.Domain}\\{identity.SamAccountName}";

    private static string Describe(IdentityKind kind) => kind == IdentityKind.User ? "user" : "group";

    // Look-ups of one directory's identities by SID, UPN, UPN prefix and (domain, sAMAccountName).
    private sealed class IdentityIndex
    {
        private readonly Dictionary<SecurityIdentifier, DirectoryIdentity> bySid = [];
        private readonly Dictionary<string, DirectoryIdentity> byUpn = new(StringComparer.OrdinalIgnoreCase);
        private readonly Dictionary<string, List<DirectoryIdentity>> byUpnPrefix = new(StringComparer.OrdinalIgnoreCase);
        private readonly Dictionary<string, List<DirectoryIdentity>> byAccountName = new(StringComparer.OrdinalIgnoreCase);

        public IdentityIndex(IReadOnlyList<DirectoryIdentity> identities)
        {
            foreach (var identity in identities)
            {
                bySid.TryAdd(identity.Sid, identity);
                Add(byAccountName, identity.SamAccountName, identity);
                if (identity.UserPrincipalName is { } upn)
                {
                    byUpn.TryAdd(upn, identity);
                    if (identity.Kind == IdentityKind.User && UpnPrefix(upn) is { } prefix)
                    {
                        Add(byUpnPrefix, prefix, identity);
                    }
                }
            }
        }

        public IReadOnlyList<DirectoryIdentity> ByUpnPrefix(string prefix) => byUpnPrefix.TryGetValue(prefix, out var list) ? list : [];

        public DirectoryIdentity? ByAccount(string domain, string accountName) =>
            byAccountName.TryGetValue(accountName, out var list)
                ? list.Find(identity => string.Equals(identity.Domain, domain, StringComparison.OrdinalIgnoreCase))
                : null;

        // A name is a SID string, a UPN, DOMAIN\sAMAccountName or a bare sAMAccountName (which must be unique).
        public DirectoryIdentity? Find(string name, out string problem)
        {
            problem = string.Empty;
            if (SecurityIdentifier.TryParse(name, out var sid))
            {
                return bySid.TryGetValue(sid!, out var bySidMatch) ? bySidMatch : Missing(out problem);
            }

            if (name.Contains('@', StringComparison.Ordinal))
            {
                return byUpn.TryGetValue(name, out var byUpnMatch) ? byUpnMatch : Missing(out problem);
            }

            var separator = name.IndexOf('\\', StringComparison.Ordinal);
            if (separator >= 0)
            {
                return ByAccount(name[..separator], name[(separator + 1)..]) ?? Missing(out problem);
            }

            if (!byAccountName.TryGetValue(name, out var matches))
            {
                return Missing(out problem);
            }

            if (matches.Count > 1)
            {
                problem = $"is ambiguous between {string.Join(", ", matches.Select(Name))}; write DOMAIN\\name";
                return null;
            }

            return matches[0];
        }

        private static DirectoryIdentity? Missing(out string problem)
        {
            problem = "names no identity of that directory";
            return null;
        }

        private static void Add(Dictionary<string, List<DirectoryIdentity>> index, string key, DirectoryIdentity identity)
        {
            if (!index.TryGetValue(key, out var list))
            {
                index[key] = list = [];
            }

            list.Add(identity);
        }
    }
}
