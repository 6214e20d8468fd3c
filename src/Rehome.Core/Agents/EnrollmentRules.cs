namespace Rehome.Core.Agents;

/// <summary>What an enrollment that proved its device key gets.</summary>
public enum EnrollmentVerdict
{
    /// <summary>The device's agent proves the key it was bound to (reinstalled, lost its credential): a new credential.</summary>
    SameKey,

    /// <summary>The device has never had an agent (or an administrator deleted them): the newcomer becomes its agent, bound to its key.</summary>
    NewDevice,

    /// <summary>
    /// The device has an agent bound to another key (or to none yet), or its agent was revoked: held for an
    /// administrator; no credential.
    /// </summary>
    Held,

    /// <summary>An administrator refused this key for this device before.</summary>
    Refused,
}

/// <summary>The verdict, the existing agent row it is about (the device's agent, the held or the refused one) and why, in words.</summary>
public sealed record EnrollmentDecision(EnrollmentVerdict Verdict, DeviceAgent? Agent, string Reason);

/// <summary>
/// Who may become a device's agent. A device is bound to the key its first agent proved; whoever holds a
/// configuration key (every device has it) can claim any device name, so another key never replaces the device's
/// agent by itself: it waits for an administrator. A revoked agent still binds its device (a revocation is what
/// an administrator does to a suspect device; it must not free the name for the next key that asks); only
/// deleting the agent frees the device.
/// </summary>
public static class EnrollmentRules
{
    /// <param name="agentsOfDevice">Every agent row of the device (its connection and device key), any state.</param>
    /// <param name="publicKey">The key the enrollment proved it holds.</param>
    public static EnrollmentDecision Decide(IReadOnlyList<DeviceAgent> agentsOfDevice, string publicKey)
    {
        if (agentsOfDevice.FirstOrDefault(a => a.Approval == AgentApproval.Refused && a.PublicKey == publicKey) is { } refused)
        {
            return new(EnrollmentVerdict.Refused, refused,
                "An administrator refused this device key's enrollment for this device; removing the refused agent lets it ask again.");
        }
        var working = agentsOfDevice.Where(a => a.RevokedAt is null && a.Approval == AgentApproval.Active).ToList();
        if (working.FirstOrDefault(a => a.PublicKey == publicKey) is { } same)
        {
            return new(EnrollmentVerdict.SameKey, same, "The device proved the key its agent is bound to.");
        }
        var held = agentsOfDevice.FirstOrDefault(a => a.RevokedAt is null && a.Approval == AgentApproval.AwaitingApproval && a.PublicKey == publicKey);
        if (working.Count == 0)
        {
            // The same key is held too: the revoked device itself may be the suspect one, so it does not come back by itself.
            return agentsOfDevice.Any(a => a.RevokedAt is not null && a.Approval == AgentApproval.Active)
                ? new(EnrollmentVerdict.Held, held, "The device's agent was revoked; an administrator decides whether this enrollment becomes its agent (deleting the revoked agent frees the device).")
                : new(EnrollmentVerdict.NewDevice, null, "The device has no agent.");
        }
        return new(EnrollmentVerdict.Held, held, working[0].PublicKey is null
            ? "The device's agent enrolled before device keys and has not bound one yet; an administrator decides."
            : "The device's agent is bound to another key; an administrator decides whether this enrollment replaces it.");
    }
}
