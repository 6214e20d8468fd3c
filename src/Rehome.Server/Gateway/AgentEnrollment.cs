using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Rehome.Core.Agents;
using Rehome.Core.Connections;
using Rehome.Core.Mappings;
using Rehome.Protocol;
using Rehome.Server.Administration;
using Rehome.Server.Audit;
using Rehome.Server.Store;

namespace Rehome.Server.Gateway;

/// <summary>An enrollment's answer: the response, and whether it is held (HTTP 202) rather than done (200).</summary>
public sealed record EnrollmentResult(EnrollResponse Response, bool Held);

/// <summary>
/// Enrollment and device-key binding. A device is bound to the key its first agent proved
/// (<see cref="EnrollmentRules"/>): the same key gets a new credential, another key waits for an administrator
/// (<see cref="Administration.AgentCommands.ApproveAsync"/>) with no credential, and the device's agent keeps its mapping and jobs.
/// </summary>
public sealed class AgentEnrollment(RehomeDbContext db, AgentRegistry registry, AuditTrail audit, TimeProvider time, ILogger<AgentEnrollment> logger,
    Notifications.NotificationOutbox notifications)
{
    public async Task<Outcome<EnrollmentResult>> EnrollAsync(EnrollRequest? request, string? address, CancellationToken ct)
    {
        // The configuration key is this endpoint's credential: without a current one, nothing else is looked at.
        var hash = string.IsNullOrWhiteSpace(request?.ConfigurationKey) ? null : ConfigurationKeys.Hash(request.ConfigurationKey.Trim());
        var connection = hash is null ? null : await db.Connections.AsNoTracking()
            .FirstOrDefaultAsync(c => c.ConfigurationKeyHash == hash && c.Role == ConnectionRole.Source, ct);
        if (connection is null)
        {
            return Failure.ByRule(StatusCodes.Status401Unauthorized, "Enrollment refused", "ConfigurationKeyInvalid",
                "Enrollment takes the current configuration key of a source connection (it may have been rotated).");
        }
        var violations = AgentMessageRules.Check(request!.Device);
        if (violations.Any)
        {
            return Failure.Validation(violations.Items);
        }
        var now = time.GetUtcNow();
        var device = request.Device;
        var key = Mapping.KeyOf(device.DeviceName);
        var ofDevice = await db.Agents.Where(a => a.DeviceKey == key && a.ConnectionId == connection.Id).ToListAsync(ct);
        var proof = request.Proof;
        var proofViolations = DeviceProofCheck.Check("proof", proof, DeviceProof.EnrollmentSubject(request.ConfigurationKey, device.DeviceName), now,
            ofDevice.Where(a => proof is not null && a.PublicKey == proof.PublicKey).Max(a => a.ProofSignedAt));
        if (proofViolations.Count > 0)
        {
            return Failure.Validation(proofViolations);
        }
        var decision = EnrollmentRules.Decide(ofDevice, proof!.PublicKey);
        switch (decision.Verdict)
        {
            case EnrollmentVerdict.Refused:
                return Failure.ByRule(StatusCodes.Status403Forbidden, "Enrollment refused", "EnrollmentRefused", decision.Reason);
            case EnrollmentVerdict.Held:
                return await HoldAsync(decision, connection, device, proof, address, now, ct);
        }

        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        DeviceAgent agent;
        List<DeviceAgent> replaced = [];
        if (decision.Agent is { CredentialHash: "" } approved)
        {
            // Approved by an administrator while it waited: its first credential goes to the row that was approved.
            agent = approved;
        }
        else
        {
            agent = NewAgent(connection.Id, device, key, AgentApproval.Active, now);
            db.Agents.Add(agent);
            // The device proved its key again (reinstalled, lost its credential): one credential per device.
            replaced = [.. ofDevice.Where(a => a.RevokedAt is null && a.Approval == AgentApproval.Active)];
            foreach (var old in replaced)
            {
                old.RevokedAt = now;
                old.RevokedBy = "re-enrollment with the device's key";
            }
        }
        Prove(agent, proof, address);
        Apply(agent, device);
        agent.LastSeenAt = now;
        var (credential, credentialHash) = AgentCredentials.Issue(agent.Id);
        agent.CredentialHash = credentialHash;
        var mapping = await MappingOfAsync(db, key, connection.Id, ct);
        if (mapping is not null)
        {
            await db.Mappings.Where(m => m.Id == mapping).ExecuteUpdateAsync(s => s.SetProperty(m => m.AgentId, agent.Id), ct);
        }
        audit.Record("agent.enroll", $"agent/{agent.Id}", $"{agent.DeviceName} with the key of {connection.Name} ({Describe(decision.Verdict)})");
        await db.SaveChangesRegardlessAsync();
        await transaction.CommitRegardlessAsync();

        foreach (var old in replaced)
        {
            registry.Revoke(old.Id);
        }
        var entry = registry.Add(agent);
        entry.MappingId = mapping;
        entry.MappingCheckedAt = Stopwatch.GetTimestamp();
        logger.LogInformation("Agent {AgentId} enrolled for device {DeviceName} (mapping {MappingId}; {Verdict})", agent.Id, agent.DeviceName, mapping, decision.Verdict);
        return new EnrollmentResult(new EnrollResponse(agent.Id, credential, mapping), Held: false);
    }

    /// <summary>
    /// An agent enrolled before device keys binds its key, once; the same key again is harmless, another is refused
    /// (only an administrator's approval of a new enrollment changes a device's key).
    /// </summary>
    public async Task<Outcome<bool>> BindKeyAsync(Guid agentId, BindIdentityRequest? request, string? address, CancellationToken ct)
    {
        var agent = await db.Agents.FirstAsync(a => a.Id == agentId, ct);
        var proof = request?.Proof;
        if (agent.PublicKey is not null && proof is not null && agent.PublicKey != proof.PublicKey)
        {
            return Failure.Conflict("DeviceKeyAlreadyBound", "This agent is bound to another device key; enroll again to have an administrator decide.");
        }
        var violations = DeviceProofCheck.Check("proof", proof, DeviceProof.BindingSubject(agentId), time.GetUtcNow(), agent.ProofSignedAt);
        if (violations.Count > 0)
        {
            return Failure.Validation(violations);
        }
        var first = agent.PublicKey is null;
        Prove(agent, proof!, address);
        if (first)
        {
            audit.Record("agent.key-bound", $"agent/{agent.Id}", $"{agent.DeviceName} (hardware id {proof!.HardwareId})");
            logger.LogInformation("Agent {AgentId} of device {DeviceName} bound its device key", agent.Id, agent.DeviceName);
        }
        await db.SaveChangesRegardlessAsync();
        return first;
    }

    /// <summary>The device's facts as its agent reports them at every start (OS, agent version, join, profiles, disk).</summary>
    public async Task<Outcome<bool>> ReportFactsAsync(Guid agentId, DeviceFacts? facts, CancellationToken ct)
    {
        if (AgentMessageRules.Check(facts) is { Any: true } violations)
        {
            return Failure.Validation(violations.Items);
        }
        var agent = await db.Agents.FirstAsync(a => a.Id == agentId, ct);
        Apply(agent, facts!);
        await db.SaveChangesRegardlessAsync();
        return true;
    }

    private async Task<Outcome<EnrollmentResult>> HoldAsync(
        EnrollmentDecision decision, Connection connection, DeviceFacts device, DeviceProof proof, string? address, DateTimeOffset now, CancellationToken ct)
    {
        var held = decision.Agent;
        if (held is null)
        {
            held = NewAgent(connection.Id, device, Mapping.KeyOf(device.DeviceName), AgentApproval.AwaitingApproval, now);
            db.Agents.Add(held);
            audit.Record("agent.enrollment-held", $"agent/{held.Id}",
                $"{held.DeviceName} with the key of {connection.Name}, another device key (hardware id {proof.HardwareId}, from {address ?? "unknown"}): {decision.Reason}");
            logger.LogWarning("Enrollment for device {DeviceName} held for approval as agent {AgentId}: {Reason}", held.DeviceName, held.Id, decision.Reason);
            await notifications.EnrollmentHeldAsync(held, decision.Reason, ct);
        }
        Prove(held, proof, address);
        Apply(held, device);
        held.LastSeenAt = now;
        await db.SaveChangesRegardlessAsync();
        return new EnrollmentResult(new EnrollResponse(held.Id, null, null, AwaitingApproval: true), Held: true);
    }

    private static DeviceAgent NewAgent(Guid connectionId, DeviceFacts device, string key, AgentApproval approval, DateTimeOffset now) => new()
    {
        Id = Guid.CreateVersion7(now),
        ConnectionId = connectionId,
        DeviceName = device.DeviceName.Trim(),
        DeviceKey = key,
        CredentialHash = "",
        Approval = approval,
        EnrolledAt = now,
        LastSeenAt = now,
    };

    private static void Prove(DeviceAgent agent, DeviceProof proof, string? address)
    {
        agent.PublicKey = proof.PublicKey;
        agent.HardwareId = proof.HardwareId.Trim();
        agent.ProofSignedAt = proof.SignedAt;
        agent.EnrolledFrom = address;
    }

    private static string Describe(EnrollmentVerdict verdict) => verdict switch
    {
        EnrollmentVerdict.SameKey => "the device's key again",
        _ => "a new device",
    };

    /// <summary>
    /// The device's mapping: at most one, in whatever project, archived or not (the store holds a device in one project
    /// only: <c>mappings.source_device_key</c> is unique), so the answer is the same on every call.
    /// </summary>
    internal static Task<Guid?> MappingOfAsync(RehomeDbContext db, string deviceKey, Guid connectionId, CancellationToken ct) => (
        from m in db.StoredMappings.AsNoTracking()
        join p in db.Projects.AsNoTracking() on m.ProjectId equals p.Id
        where m.SourceDeviceKey == deviceKey && p.SourceConnectionId == connectionId
        select (Guid?)m.Id).FirstOrDefaultAsync(ct);

    private static void Apply(DeviceAgent agent, DeviceFacts device)
    {
        agent.OsVersion = device.OsVersion ?? "";
        agent.AgentVersion = device.AgentVersion ?? "";
        agent.JoinType = device.JoinType.ToString();
        agent.DomainName = device.DomainName;
        agent.TenantId = device.TenantId;
        agent.EntraDeviceId = device.EntraDeviceId;
        agent.LoggedOnUsers = string.Join(",", device.LoggedOnUsers ?? []);
        agent.ProfileSids = string.Join(",", device.ProfileSids ?? []);
        agent.FreeDiskSpaceBytes = device.FreeDiskSpaceBytes;
    }
}
