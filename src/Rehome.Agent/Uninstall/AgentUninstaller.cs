using Rehome.Agent.Enrollment;
using Rehome.Agent.Journal;
using Rehome.Agent.Platform;
using Rehome.Agent.Polling;
using Rehome.Protocol;

namespace Rehome.Agent.Uninstall;

/// <summary>Where an uninstall stands; saved in the state folder so that a crash or restart in the middle goes on from there.</summary>
public enum UninstallPhase
{
    /// <summary>Removing the journals, logs and device key (again after a crash: each removal is idempotent).</summary>
    RemovingData,

    /// <summary>The server has the confirmation (the credential is revoked): only the identity and the agent itself are left.</summary>
    Confirmed,
}

public sealed record UninstallRecord(UninstallPhase Phase, List<UninstalledPart> Removed);

/// <summary>
/// The agent's removal of itself, once told and at a safe point (<see cref="UninstallDecision"/>): its journals and
/// logs, then its device key, then the confirmation to the server (its last authenticated call, so the credential
/// goes after it), then its identity, the agent itself through <see cref="IAgentRemoval"/>, and last its data root
/// (what the local uninstall removes) and state folder. Each phase is recorded first, so a crash anywhere ends the
/// same way when the agent starts again.
/// </summary>
public sealed class AgentUninstaller(string stateFolder, IAgentRemoval removal, GatewayClient gateway, TimeProvider time, ILogger logger)
{
    private const string FileName = "uninstall.json";

    private string RecordPath => Path.Combine(stateFolder, FileName);

    /// <summary>An uninstall began and did not end (the agent then finishes it before anything else).</summary>
    public static bool IsPending(string stateFolder) => File.Exists(Path.Combine(stateFolder, FileName));

    public async Task RunAsync(CancellationToken ct)
    {
        var record = DurableFile.ReadJson<UninstallRecord>(RecordPath) ?? Save(new UninstallRecord(UninstallPhase.RemovingData, []));
        if (record.Phase == UninstallPhase.RemovingData)
        {
            // Each removal is idempotent and counts only what it found; what one before a crash took stays counted.
            var removed = new HashSet<UninstalledPart>(record.Removed);
            if (DeleteFolder(Path.Combine(stateFolder, "jobs")))
            {
                removed.Add(UninstalledPart.Journals);
            }
            if (removal.DataRoot is { } root && DeleteFolder(Path.Combine(root, "logs")))
            {
                removed.Add(UninstalledPart.Logs);
            }
            if (removal.RemoveDeviceKey())
            {
                removed.Add(UninstalledPart.DeviceKey);
            }
            record = Save(record with { Removed = [.. removed.Order()] });
            await ConfirmAsync(record.Removed, ct);
            record = Save(record with { Phase = UninstallPhase.Confirmed });
        }
        new AgentIdentityStore(stateFolder).Forget();
        var parts = removal.RemoveSelf();
        logger.LogWarning("Uninstalled as asked by the server: removed {Removed}, credential, {Parts}", string.Join(", ", record.Removed), string.Join(", ", parts));
        // The same data the local uninstall removes (settings, join staging); the state folder, which holds the record, last.
        if (removal.DataRoot is { } dataRoot)
        {
            DeleteFolder(dataRoot);
        }
        DeleteFolder(stateFolder);
    }

    /// <summary>Tells the server, retrying while it cannot be reached; a refusal of the credential means it already has it.</summary>
    private async Task ConfirmAsync(List<UninstalledPart> removed, CancellationToken ct)
    {
        try
        {
            await NetworkRetry.UntilAnsweredAsync(async _ =>
            {
                await gateway.ConfirmUninstalledAsync(new UninstallReport { Removed = removed }, ct);
                return true;
            }, time, AgentTimings.StartupRetry, (e, delay) => logger.LogWarning("Server unreachable ({Reason}); confirming the uninstall again in {Delay}", e.Message, delay), ct);
        }
        catch (AgentRefusedException)
        {
            // Confirmed before a crash: the credential was revoked with it.
            logger.LogInformation("The server already has this agent's uninstall");
        }
        catch (GatewayRejectedException e)
        {
            // The server does not expect it (the agent was deleted meanwhile, say): the data are gone either way.
            logger.LogWarning("The server refused the uninstall's confirmation ({Reason}); removing the agent anyway", e.Message);
        }
    }

    private UninstallRecord Save(UninstallRecord record)
    {
        Directory.CreateDirectory(stateFolder);
        DurableFile.WriteJson(RecordPath, record);
        return record;
    }

    /// <summary>Deletes the folder (a junction in it is removed, never followed); false when there was none.</summary>
    private static bool DeleteFolder(string folder)
    {
        if (!Directory.Exists(folder))
        {
            return false;
        }
        Directory.Delete(folder, recursive: true);
        return true;
    }
}
