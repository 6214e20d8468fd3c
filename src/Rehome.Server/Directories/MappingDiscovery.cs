using Microsoft.EntityFrameworkCore;
using Rehome.Core.Cleanup;
using Rehome.Core.Connections;
using Rehome.Core.Mappings;
using Rehome.Core.Validation;
using Rehome.Directory.ActiveDirectory;
using Rehome.Server.Mappings;
using Rehome.Server.Store;

namespace Rehome.Server.Directories;

/// <summary>What to add from the source directory.</summary>
/// <param name="OrganizationalUnit">The OU to list computers under (distinguished name).</param>
/// <param name="IncludeChildOus">Also computers in OUs below it (the default).</param>
/// <param name="DestinationNameFormat">The destination name, with {name} standing for the source name; the same name when not given.</param>
/// <param name="DestinationOu">The destination OU of the new mappings; the destination connection's target OU when not given.</param>
/// <param name="IncludeDisabled">Also disabled computer accounts (left out by default: they are usually retired machines).</param>
public sealed record DiscoveryInput(
    string? OrganizationalUnit, bool IncludeChildOus = true, string? DestinationNameFormat = null, string? DestinationOu = null, bool IncludeDisabled = false);

/// <summary>A computer found in the source directory.</summary>
public sealed record DiscoveredComputer(string Name, string DistinguishedName, string? DnsHostName, string? OperatingSystem, bool Enabled);

/// <summary>What adding from discovery did: mappings created, devices skipped and why, rows refused.</summary>
public sealed record DiscoveryOutcome(
    int Found, int Created, int AlreadyInProject, int Disabled, IReadOnlyList<string> InOtherProjects, IReadOnlyList<ImportError> Errors,
    [property: System.Text.Json.Serialization.JsonIgnore] ArchiveRefusal? Refused = null);

/// <summary>
/// Creates mappings from the computers of an OU of the project's source domain: the mapping import's rules
/// (all or nothing, each refused device named), except that devices already mapped are left as they are.
/// </summary>
public sealed class MappingDiscovery(RehomeDbContext db, DirectoryClients clients, MappingImporter importer)
{
    /// <summary>Most computers one discovery adds; a larger OU is added in parts (child OUs).</summary>
    public const int MaxComputers = 200_000;

    public static IReadOnlyList<RuleViolation> Validate(DiscoveryInput input)
    {
        var violations = new RuleViolations();
        if (violations.Require("organizationalUnit", input.OrganizationalUnit, "The OU to discover") && !DistinguishedNames.IsValid(input.OrganizationalUnit!))
        {
            violations.Add("organizationalUnit", "DistinguishedName", $"'{input.OrganizationalUnit}' is not a distinguished name such as OU=Workstations,DC=corp,DC=example,DC=com.");
        }
        if (input.DestinationNameFormat is { } format && !format.Contains("{name}", StringComparison.OrdinalIgnoreCase))
        {
            violations.Add("destinationNameFormat", "Placeholder", "The destination name format must contain {name}, which stands for the source computer's name.");
        }
        if (input.DestinationOu is { } ou && !DistinguishedNames.IsValid(ou))
        {
            violations.Add("destinationOu", "DistinguishedName", $"'{ou}' is not a distinguished name.");
        }
        return violations.Items;
    }

    /// <summary>The computers under an OU of a source connection's domain, paged from the DC.</summary>
    public async Task<List<ActiveDirectoryComputer>> ListAsync(Connection source, string organizationalUnit, bool includeChildOus, int limit, CancellationToken ct)
    {
        var computers = new List<ActiveDirectoryComputer>();
        await foreach (var computer in clients.ActiveDirectory(source).ListComputersAsync(organizationalUnit, includeChildOus, ct))
        {
            computers.Add(computer);
            if (computers.Count >= limit)
            {
                break;
            }
        }
        return computers;
    }

    public async Task<DiscoveryOutcome> AddAsync(Guid projectId, Connection source, DiscoveryInput input, CancellationToken ct)
    {
        var found = await ListAsync(source, input.OrganizationalUnit!, input.IncludeChildOus, MaxComputers + 1, ct);
        if (found.Count > MaxComputers)
        {
            return new DiscoveryOutcome(found.Count, 0, 0, 0, [],
                [new ImportError(0, "OrganizationalUnit", $"More than {MaxComputers:N0} computers are under {input.OrganizationalUnit}; add them OU by OU (without child OUs).")]);
        }
        var candidates = found.Where(c => input.IncludeDisabled || c.Enabled).ToList();
        var keys = candidates.Select(c => Mapping.KeyOf(c.Name)).ToList();
        var existing = new Dictionary<string, Guid>(StringComparer.Ordinal);
        foreach (var chunk in keys.Chunk(500))
        {
            foreach (var m in await db.StoredMappings.AsNoTracking().Where(m => chunk.Contains(m.SourceDeviceKey)).Select(m => new { m.SourceDeviceKey, m.ProjectId }).ToListAsync(ct))
            {
                existing[m.SourceDeviceKey] = m.ProjectId;
            }
        }
        var projectNames = await db.Projects.AsNoTracking().ToDictionaryAsync(p => p.Id, p => p.Name, ct);
        var rows = new List<ImportRow>();
        var inOtherProjects = new List<string>();
        var alreadyHere = 0;
        foreach (var computer in candidates)
        {
            if (existing.TryGetValue(Mapping.KeyOf(computer.Name), out var project))
            {
                if (project == projectId)
                {
                    alreadyHere++;
                }
                else
                {
                    inOtherProjects.Add($"{computer.Name} (in '{projectNames.GetValueOrDefault(project)}')");
                }
                continue;
            }
            var destination = (input.DestinationNameFormat ?? "{name}").Replace("{name}", computer.Name, StringComparison.OrdinalIgnoreCase);
            rows.Add(new ImportRow(rows.Count + 1, new MappingInput { SourceDevice = computer.Name, DestinationName = destination, DestinationOu = input.DestinationOu }));
        }
        var imported = rows.Count == 0 ? new ImportOutcome(0, 0, []) : await importer.ImportAsync(projectId, rows, ct);
        return new DiscoveryOutcome(found.Count, imported.Created, alreadyHere, found.Count - candidates.Count, inOtherProjects, imported.Errors, imported.Refused);
    }
}
