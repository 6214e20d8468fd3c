using Microsoft.EntityFrameworkCore;
using Rehome.Core.Connections;
using Rehome.Core.Mappings;
using Rehome.Core.Policies;
using Rehome.Core.Projects;
using Rehome.Directory.ActiveDirectory;
using Rehome.Directory.EntraId;
using Rehome.Directory.OfflineJoin;
using Rehome.Protocol;
using Rehome.Security.Sids;
using Rehome.Server.Store;

namespace Rehome.Server.Directories.Connected;

/// <summary>
/// The real directories behind a project's connections (Rehome:Directories:Mode = Connected): destination
/// computer objects and offline join data made in Active Directory (Samba's net on Linux,
/// NetProvisionComputerAccount on Windows), SID maps from both directories' users and groups, and Entra ID
/// groups and Autopilot through Microsoft Graph. An unreachable directory throws
/// <see cref="Rehome.Directory.DirectoryUnavailableException"/>; callers retry within
/// <see cref="DirectoriesOptions.RetryWindow"/>.
/// </summary>
public sealed class ConnectedDirectory(DirectoryClients clients, ProjectIdentities identities, IServiceScopeFactory scopes) : IMigrationDirectory
{
    public async Task<DestinationPreparation> PrepareDestinationAsync(DestinationRequest request, CancellationToken ct)
    {
        var destination = request.Destination;
        if (DirectoryClients.ActiveDirectoryGap(destination) is { } gap)
        {
            return DestinationPreparation.Failed("DestinationNotConnected", $"{gap} Rehome cannot create the computer object.");
        }
        var name = request.Mapping.DestinationName;
        var ou = request.Mapping.DestinationOu ?? destination.TargetOu!;
        var reuse = request.Policy.ReuseExistingComputerObject;
        if (destination.RejoinMethod == RejoinMethod.Offline)
        {
            var result = await clients.OfflineJoin(destination).ProvisionAsync(new OfflineJoinRequest(name, ou, reuse), ct);
            return result.Succeeded
                ? DestinationPreparation.Prepared(OfflineJoinFile.ToBase64Text(result.Data))
                : DestinationPreparation.Failed(FailureCode(result.Failure), result.Message);
        }
        // Online: the server pre-creates (or reuses) the account and gives it a one-time password, with which the
        // device joins by itself (an unsecure join with the machine password passed): no directory credential
        // ever reaches the device. Run again after a lapsed claim, it sets a new password, which the job then holds.
        var directory = clients.ActiveDirectory(destination);
        var account = await directory.EnsureComputerAccountAsync(new ComputerAccountRequest(name, ou, reuse), ct);
        if (account.Outcome == ComputerAccountOutcome.Refused)
        {
            return DestinationPreparation.Failed(FailureCode(account.Refusal), account.Message);
        }
        if (account.Computer is { Enabled: false } disabled)
        {
            return DestinationPreparation.Failed("ComputerAccountDisabled",
                $"The computer account '{disabled.DistinguishedName}' the policy reuses is disabled: enable it or delete it, then re-run.");
        }
        var password = MachinePasswords.Generate();
        await directory.SetComputerPasswordAsync(account.Computer!.DistinguishedName, password, ct);
        return DestinationPreparation.Prepared(password);
    }

    public async Task<ReturnTicket> MakeReturnTicketAsync(ReturnTicketRequirement request, CancellationToken ct)
    {
        var source = request.Source;
        if (DirectoryClients.ActiveDirectoryGap(source) is { } gap)
        {
            return ReturnTicket.Unavailable($"{gap} Without it the server cannot make the offline join data that takes a device back into its source.");
        }
        var name = request.Mapping.SourceDevice;
        var computer = await clients.ActiveDirectory(source).FindComputerAsync(name, ct);
        if (computer is null)
        {
            return ReturnTicket.Unavailable(
                $"{source.DomainDnsName ?? source.Name} has no computer account named {name}: the device cannot be sent back to its source under that name.");
        }
        // The device's own account, where it is: provisioning resets its password (the device's secure channel with
        // its source ends here, which is why the ticket is made only when the device is about to leave).
        var result = await clients.OfflineJoin(source).ProvisionAsync(
            new OfflineJoinRequest(name, DistinguishedNames.Parent(computer.DistinguishedName), ReuseExistingAccount: true), ct);
        return result.Succeeded
            ? ReturnTicket.Made(OfflineJoinFile.ToBase64Text(result.Data))
            : ReturnTicket.Unavailable($"The source domain refused the return ticket of {name}: {result.Message}");
    }

    public async Task<DestinationCheck> CheckDestinationAsync(DestinationRequest request, CancellationToken ct)
    {
        var destination = request.Destination;
        if (DirectoryClients.ActiveDirectoryGap(destination) is { } gap)
        {
            return new DestinationCheck(false, gap);
        }
        var directory = clients.ActiveDirectory(destination);
        var ou = request.Mapping.DestinationOu ?? destination.TargetOu!;
        if (!await directory.ExistsAsync(ou, ct))
        {
            return new DestinationCheck(false, $"The OU {ou} does not exist in {destination.DomainDnsName ?? destination.Name}.");
        }
        var name = request.Mapping.DestinationName;
        if (await directory.FindAccountAsync(name + "$", ct) is { } taken)
        {
            var reusable = taken.Kind == ActiveDirectoryAccountKind.Computer && request.Policy.ReuseExistingComputerObject;
            return new DestinationCheck(reusable, reusable
                ? $"{name} exists ({taken.DistinguishedName}) and the policy reuses computer objects."
                : $"{name} is taken by {taken.DistinguishedName}; rename the destination or allow reusing computer objects in the policy.");
        }
        return new DestinationCheck(true, $"{name} is free in {ou}.");
    }

    public async Task<SidMapAnswer> MapSidsAsync(Project project, PolicySettings policy, IReadOnlyList<SecurityIdentifier> sids, CancellationToken ct)
    {
        var (source, destination, _) = await ContextAsync(project, ct);
        var loaded = await identities.GetAsync(project.Id, source, destination, ct);
        return loaded.Answer(policy, sids);
    }

    public async Task<DirectoryActionAnswer> RunActionAsync(Guid jobId, Project project, Mapping mapping, DirectoryActionRequest request, CancellationToken ct)
    {
        var (source, destination, policy) = await ContextAsync(project, ct);
        try
        {
            return request.Action switch
            {
                DirectoryAction.MigrateEntraIdGroups => await MigrateGroupsAsync(source, destination, policy, mapping, request, ct),
                DirectoryAction.ImportAutopilotDevice => await ImportAutopilotAsync(jobId, source, destination, policy, request, ct),
                _ => Failed($"Unknown action {request.Action}."),
            };
        }
        catch (Exception e) when (DirectoryFailures.Classify(e) is { Kind: DirectoryFailureKind.Refused } refused)
        {
            // A connection without the Entra ID part it needs, or Graph refusing: retrying will not help.
            return Failed(refused.Reason);
        }
    }

    private async Task<DirectoryActionAnswer> MigrateGroupsAsync(
        Connection source, Connection destination, PolicySettings policy, Mapping mapping, DirectoryActionRequest request, CancellationToken ct)
    {
        var sourceTenant = clients.EntraId(source);
        var destinationTenant = clients.EntraId(destination);
        var sourceDevice = Guid.TryParse(request.SourceEntraDeviceId, out var sourceId)
            ? await sourceTenant.FindDeviceByDeviceIdAsync(sourceId, ct)
            : Single(await sourceTenant.FindDevicesByNameAsync(mapping.SourceDevice, ct));
        if (sourceDevice is null)
        {
            return Failed($"The source tenant has no device {request.SourceEntraDeviceId ?? mapping.SourceDevice}.");
        }
        var destinationDevice = Guid.TryParse(request.DestinationEntraDeviceId, out var destinationId)
            ? await destinationTenant.FindDeviceByDeviceIdAsync(destinationId, ct)
            : null;
        if (destinationDevice is null)
        {
            var named = await destinationTenant.FindDevicesByNameAsync(mapping.DestinationName, ct);
            if (named.Count > 1)
            {
                return Failed($"The destination tenant has {named.Count} devices named {mapping.DestinationName}; remove the stale ones or let the device report its device id.");
            }
            destinationDevice = named.SingleOrDefault();
        }
        if (destinationDevice is null)
        {
            return Failed($"The destination tenant has no device {mapping.DestinationName} yet; re-run once the device has registered there.");
        }
        var groups = await sourceTenant.GetDeviceGroupsAsync(sourceDevice.ObjectId, transitive: false, ct);
        // The policy's group pairs name Entra ID groups too (by id or display name).
        var explicitMapping = policy.IdentityMapping.Groups
            .DistinctBy(p => p.Source, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(p => p.Source, p => p.Destination, StringComparer.OrdinalIgnoreCase);
        var resolutions = await destinationTenant.ResolveGroupsAsync(groups, explicitMapping, ct);
        var resolved = resolutions.Where(r => r.Resolved).ToList();
        var added = await destinationTenant.AddDeviceToGroupsAsync(destinationDevice.ObjectId, resolved.Select(r => r.Destination!.Id), ct);
        var items = new List<ItemResult>();
        foreach (var r in resolutions.Where(r => !r.Resolved))
        {
            items.Add(new ItemResult(r.Source.DisplayName, ItemOutcome.Failed, r.Message));
        }
        foreach (var result in added)
        {
            var group = resolved.First(r => r.Destination!.Id == result.GroupId).Destination!.DisplayName;
            items.Add(result.Outcome switch
            {
                GroupMembershipOutcome.Added => new ItemResult(group, ItemOutcome.Changed, null),
                GroupMembershipOutcome.AlreadyMember => new ItemResult(group, ItemOutcome.Skipped, "Already a member."),
                _ => new ItemResult(group, ItemOutcome.Failed, result.Message),
            });
        }
        var failed = items.Count(i => i.Outcome == ItemOutcome.Failed);
        return new DirectoryActionAnswer(failed == 0 ? DirectoryActionState.Done : DirectoryActionState.Failed,
            failed == 0 ? $"In {items.Count} destination group(s)." : $"{failed} of {items.Count} group(s) could not be migrated.", items);
    }

    private async Task<DirectoryActionAnswer> ImportAutopilotAsync(
        Guid jobId, Connection source, Connection destination, PolicySettings policy, DirectoryActionRequest request, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(request.SerialNumber) || string.IsNullOrEmpty(request.HardwareHash) || !IsBase64(request.HardwareHash))
        {
            return Failed("The device sent no serial number or no readable hardware hash.");
        }
        var destinationTenant = clients.EntraId(destination);
        var sourceTenant = DirectoryClients.EntraIdGap(source) is null ? clients.EntraId(source) : null;
        var serial = request.SerialNumber;
        await using var scope = scopes.CreateAsyncScope();
        var imports = new AutopilotImports(scope.ServiceProvider.GetRequiredService<RehomeDbContext>());
        var followed = await imports.FollowedAsync(jobId, request.LeaseToken, serial, ct);
        if (!followed.Held)
        {
            // The lease moved on since the gateway checked it: whoever holds the job now asks for it.
            return new DirectoryActionAnswer(DirectoryActionState.Pending, "This job's lease moved on; nothing was imported for this ask.", []);
        }
        var import = followed.ImportId is { } importId
            ? await destinationTenant.WaitForAutopilotImportAsync(importId, ct)
            : await destinationTenant.ImportAutopilotDeviceAsync(new AutopilotImportRequest(serial, request.HardwareHash, policy.Autopilot.GroupTag), ct);
        if (import.Outcome == AutopilotImportOutcome.Processing && import.ImportId is { } id)
        {
            await imports.ProcessingAsync(jobId, request.LeaseToken, serial, id, followed.ImportId);
            return new DirectoryActionAnswer(DirectoryActionState.Pending, import.Message, []);
        }
        await imports.EndedAsync(jobId, request.LeaseToken, serial, followed.ImportId);
        var transfer = await AutopilotTransfer.RemoveSourceAfterImportAsync(import, sourceTenant, serial, ct);
        return transfer.Registered
            ? new DirectoryActionAnswer(DirectoryActionState.Done, transfer.Message, [new ItemResult(serial, ItemOutcome.Changed, null)])
            : Failed(transfer.Message);
    }

    private async Task<(Connection Source, Connection Destination, PolicySettings Policy)> ContextAsync(Project project, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        var connections = await db.Connections.AsNoTracking()
            .Where(c => c.Id == project.SourceConnectionId || c.Id == project.DestinationConnectionId).ToListAsync(ct);
        var policy = await db.Policies.AsNoTracking().Where(p => p.Id == project.PolicyId).Select(p => p.Settings).FirstAsync(ct);
        return (connections.First(c => c.Id == project.SourceConnectionId), connections.First(c => c.Id == project.DestinationConnectionId), policy);
    }

    private static DirectoryActionAnswer Failed(string message) => new(DirectoryActionState.Failed, message, []);

    /// <summary>The one device of a name; none when the name is missing or ambiguous (stale duplicates).</summary>
    private static EntraDevice? Single(IReadOnlyList<EntraDevice> devices) => devices.Count == 1 ? devices[0] : null;

    private static bool IsBase64(string text) => Convert.TryFromBase64String(text, new byte[text.Length], out _);

    private static string FailureCode(OfflineJoinFailureReason reason) => reason switch
    {
        OfflineJoinFailureReason.NameTaken => "ComputerNameTaken",
        OfflineJoinFailureReason.AccessDenied => "AccessDenied",
        OfflineJoinFailureReason.OrganizationalUnitMissing => "OrganizationalUnitMissing",
        OfflineJoinFailureReason.InvalidName => "InvalidComputerName",
        OfflineJoinFailureReason.LogonFailure => "DestinationLogonFailed",
        _ => "ProvisioningFailed",
    };

    private static string FailureCode(ComputerAccountRefusal refusal) => refusal switch
    {
        ComputerAccountRefusal.NameTakenByComputer or ComputerAccountRefusal.NameTakenByOtherObject => "ComputerNameTaken",
        ComputerAccountRefusal.AccessDenied => "AccessDenied",
        ComputerAccountRefusal.OrganizationalUnitMissing => "OrganizationalUnitMissing",
        ComputerAccountRefusal.InvalidName => "InvalidComputerName",
        _ => "ProvisioningFailed",
    };
}
