using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Rehome.Core.Connections;
using Rehome.Core.Mappings;
using Rehome.Core.Policies;
using Rehome.Core.Projects;
using Rehome.Directory.ActiveDirectory;
using Rehome.Protocol;
using Rehome.Security.Reacl;
using Rehome.Security.Sids;

namespace Rehome.Server.Directories;

/// <summary>Settings of the simulated directory. Bound from <c>Rehome:Directories:Simulated</c>.</summary>
public sealed class SimulatedDirectoryOptions
{
    public const string Section = DirectoriesOptions.Section + ":Simulated";

    /// <summary>Destination computer names that are already taken (to rehearse a failed preparation).</summary>
    public List<string> TakenComputerNames { get; set; } = [];

    /// <summary>How long a simulated Autopilot import stays pending.</summary>
    [System.ComponentModel.DataAnnotations.Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan AutopilotImportDuration { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>
/// A source and destination directory simulated in memory (Rehome:Directories:Mode = Simulated), for the
/// rehearsal, the demo and the end-to-end tests: computer objects and join data, identities by
/// <see cref="SimulatedIdentities"/>, Entra ID group memberships and Autopilot imports. The identity mapping
/// itself is the real one (<see cref="IdentityMapper"/> with the project's policy).
/// </summary>
public sealed class SimulatedDirectory(SimulatedDirectoryOptions options, TimeProvider time) : IMigrationDirectory
{
    private readonly ConcurrentDictionary<string, Guid> computers = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, Guid> sourceComputers = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, DateTimeOffset> autopilotImports = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, IReadOnlyList<string>> groupMemberships = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The destination groups each destination device was added to (for tests and the rehearsal's checks).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> GroupMemberships => groupMemberships;

    /// <summary>Destination computer objects made so far, by name.</summary>
    public IReadOnlyDictionary<string, Guid> Computers => computers;

    public Task<DestinationPreparation> PrepareDestinationAsync(DestinationRequest request, CancellationToken ct)
    {
        var name = request.Mapping.DestinationName;
        if (options.TakenComputerNames.Contains(name, StringComparer.OrdinalIgnoreCase) && !request.Policy.ReuseExistingComputerObject)
        {
            return Task.FromResult(DestinationPreparation.Failed("ComputerNameTaken",
                $"A computer object named {name} already exists in the destination; rename the mapping's destination or allow reusing computer objects in the policy."));
        }
        var objectId = computers.GetOrAdd(name, _ => Guid.NewGuid());
        if (request.Destination.RejoinMethod != RejoinMethod.Offline)
        {
            // Online: the computer account's one-time password, as the connected directory sets it.
            return Task.FromResult(DestinationPreparation.Prepared(MachinePasswords.Generate()));
        }
        return Task.FromResult(DestinationPreparation.Prepared(FakeJoinData(request.Destination,
            request.Destination.DomainDnsName ?? SimulatedIdentities.DestinationDnsName, name, objectId, request.Mapping.DestinationOu ?? request.Destination.TargetOu)));
    }

    /// <summary>The source domain takes every device back under its source name (its account exists there).</summary>
    public Task<ReturnTicket> MakeReturnTicketAsync(ReturnTicketRequirement request, CancellationToken ct)
    {
        var name = request.Mapping.SourceDevice;
        var objectId = sourceComputers.GetOrAdd(name, _ => Guid.NewGuid());
        return Task.FromResult(ReturnTicket.Made(FakeJoinData(request.Source,
            request.Source.DomainDnsName ?? SimulatedIdentities.SourceDnsName, name, objectId, ou: null)));
    }

    /// <summary>Stands in for a djoin blob: what the device needs to join a domain without a DC, as base64.</summary>
    private static string FakeJoinData(Connection connection, string domain, string computerName, Guid objectId, string? ou) =>
        Convert.ToBase64String(JsonSerializer.SerializeToUtf8Bytes(new
        {
            simulated = true,
            kind = connection.Kind.ToString(),
            domain,
            computerName,
            objectId,
            ou,
        }));

    public Task<DestinationCheck> CheckDestinationAsync(DestinationRequest request, CancellationToken ct)
    {
        var name = request.Mapping.DestinationName;
        var taken = options.TakenComputerNames.Contains(name, StringComparer.OrdinalIgnoreCase);
        return Task.FromResult(!taken ? new DestinationCheck(true, $"{name} is free in the simulated destination.")
            : request.Policy.ReuseExistingComputerObject ? new DestinationCheck(true, $"{name} exists and the policy reuses computer objects.")
            : new DestinationCheck(false, $"{name} is taken in the simulated destination; rename the destination or allow reusing computer objects in the policy."));
    }

    public Task<SidMapAnswer> MapSidsAsync(Project project, PolicySettings policy, IReadOnlyList<SecurityIdentifier> sids, CancellationToken ct)
    {
        var source = new List<DirectoryIdentity>();
        var unmapped = new List<UnmappedSid>();
        foreach (var sid in sids.Distinct())
        {
            if (SimulatedIdentities.Describe(sid, SimulatedIdentities.SourceDomain) is { } found)
            {
                source.Add(Identity(sid, found.Name, found.IsGroup, SimulatedIdentities.SourceNetBiosName, SimulatedIdentities.SourceDnsName));
            }
            else
            {
                unmapped.Add(new UnmappedSid(sid.ToString(), "Not found in the source directory."));
            }
        }
        // The destination has the same accounts (the rehearsal's destination was populated from the source).
        var destination = source.Select(s =>
        {
            var rid = s.Sid.ToString()[(SimulatedIdentities.SourceDomain.ToString().Length + 1)..];
            var sid = SecurityIdentifier.Parse($"{SimulatedIdentities.DestinationDomain}-{rid}");
            return Identity(sid, s.SamAccountName, s.Kind == IdentityKind.Group, SimulatedIdentities.DestinationNetBiosName, SimulatedIdentities.DestinationDnsName);
        }).ToList();
        var result = IdentityMapper.Build(IdentityPolicy.From(policy.IdentityMapping), source, destination);
        var pairs = result.Map.Pairs.Select(p => new SidPair(p.Key.ToString(), p.Value.ToString())).ToList();
        unmapped.AddRange(result.Unmapped.Select(u => new UnmappedSid(u.Sid.ToString(), $"{u.Name}: {u.Reason}")));
        return Task.FromResult(new SidMapAnswer(pairs, unmapped));
    }

    public Task<DirectoryActionAnswer> RunActionAsync(Guid jobId, Project project, Mapping mapping, DirectoryActionRequest request, CancellationToken ct) =>
        Task.FromResult(request.Action switch
        {
            DirectoryAction.MigrateEntraIdGroups => MigrateGroups(mapping, request),
            DirectoryAction.ImportAutopilotDevice => ImportAutopilot(request),
            _ => new DirectoryActionAnswer(DirectoryActionState.Failed, $"Unknown action {request.Action}.", []),
        });

    private DirectoryActionAnswer MigrateGroups(Mapping mapping, DirectoryActionRequest request)
    {
        if (string.IsNullOrEmpty(request.SourceEntraDeviceId))
        {
            return new DirectoryActionAnswer(DirectoryActionState.Failed, "The device reported no source Entra ID device id.", []);
        }
        // The source device's memberships, by a rule the rehearsal can check: every device is in SG-Devices-All
        // and in one of ten ring groups.
        var ring = Math.Abs(StringComparer.OrdinalIgnoreCase.GetHashCode(mapping.SourceDeviceKey) % 10);
        IReadOnlyList<string> groups = ["SG-Devices-All", string.Create(CultureInfo.InvariantCulture, $"SG-Devices-Ring{ring}")];
        groupMemberships[mapping.DestinationName] = groups;
        return new DirectoryActionAnswer(DirectoryActionState.Done, $"Added to {groups.Count} destination groups.",
            [.. groups.Select(g => new ItemResult(g, ItemOutcome.Changed, null))]);
    }

    private DirectoryActionAnswer ImportAutopilot(DirectoryActionRequest request)
    {
        if (string.IsNullOrEmpty(request.HardwareHash) || !IsBase64(request.HardwareHash))
        {
            return new DirectoryActionAnswer(DirectoryActionState.Failed, "The device sent no readable hardware hash.", []);
        }
        var key = request.SerialNumber ?? request.HardwareHash;
        var started = autopilotImports.GetOrAdd(key, _ => time.GetUtcNow());
        return time.GetUtcNow() - started >= options.AutopilotImportDuration
            ? new DirectoryActionAnswer(DirectoryActionState.Done, "Imported into the destination tenant's Autopilot devices.", [new ItemResult(key, ItemOutcome.Changed, null)])
            : new DirectoryActionAnswer(DirectoryActionState.Pending, "The Autopilot import is under way.", []);
    }

    private static bool IsBase64(string text) => Convert.TryFromBase64String(text, new byte[text.Length], out _);

    private static DirectoryIdentity Identity(SecurityIdentifier sid, string name, bool isGroup, string netBios, string dns) =>
        new(sid, name, isGroup ? null : $"{name}@{dns}", isGroup ? IdentityKind.Group : IdentityKind.User, netBios);
}

/// <summary>The policy's identity rules in the form the Re-ACL library takes.</summary>
public static class IdentityPolicy
{
    public static IdentityMappingPolicy From(IdentityMappingSettings settings) => new()
    {
        UpnPrefixAutoMapping = settings.UpnPrefixAutoMapping,
        ExplicitMappings = [.. settings.Users.Concat(settings.Groups).Select(p => new ExplicitMapping(p.Source, p.Destination))],
        DomainMappings = [.. settings.Domains.Select(d => new DomainMapping(d.Source, d.Destination))],
    };
}
