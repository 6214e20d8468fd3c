using System.IO.Compression;
using Rehome.Agent.Journal;
using Rehome.Agent.Platform;
using Rehome.Agent.Polling;
using Rehome.Protocol;

namespace Rehome.Agent.Updates;

/// <summary>
/// The agent's side of self-update. At each start it finishes what an update left (the new version checks in and
/// confirms; the previous one, restored, reports the rollback); while idle, now and then, it asks the server which
/// version to run and, at a safe point only, downloads it, verifies it against its own publisher key, stages it and
/// hands over.
/// </summary>
public sealed class AgentUpdater(AgentOptions options, IAgentInstallation installation, GatewayClient gateway, TimeProvider time, ILogger logger)
{
    private readonly UpdateState state = new(options.StateFolder);
    private readonly IReadOnlyList<byte[]> publisherKeys = PackageSignature.ReadPublicKeys(
        options.UpdatePublisherKey is { } key && !key.Contains("-----BEGIN", StringComparison.Ordinal) && File.Exists(key) ? File.ReadAllText(key) : options.UpdatePublisherKey);
    private DateTimeOffset nextCheck = DateTimeOffset.MinValue;

    public UpdateState State => state;

    /// <summary>Whether this agent updates itself at all: only with a publisher key to check packages against.</summary>
    public bool Enabled => publisherKeys.Count > 0;

    /// <summary>Before the agent checks in: the platform's start (a simulated failing version hangs there until it is rolled back).</summary>
    public Task StartingAsync(CancellationToken ct) => installation.StartingAsync(state, ct);

    /// <summary>After the agent's facts (with <see cref="IAgentInstallation.InstalledVersion"/>) reached the server: confirm or report.</summary>
    public async Task CheckedInAsync(CancellationToken ct)
    {
        var record = state.Load();
        switch (UpdateDecisions.AtStart(record, installation.InstalledVersion, time.GetUtcNow()))
        {
            case StartAction.CheckIn:
                record = state.Change(r => r with { Phase = UpdatePhase.Confirmed, Reported = false })!;
                await installation.CommitAsync(record, ct);
                logger.LogInformation("Updated from {FromVersion} to {ToVersion}", record.FromVersion, record.ToVersion);
                await ReportAsync(record, AgentUpdateOutcome.Updated, null, ct);
                break;
            case StartAction.ReportRollback:
                record = state.Change(r => r with
                {
                    Phase = UpdatePhase.RolledBack,
                    FailedVersions = [.. r.FailedVersions.Append(r.ToVersion).Distinct(StringComparer.OrdinalIgnoreCase)],
                })!;
                logger.LogError("The update to {ToVersion} rolled back: it did not check in by {Deadline}; {FromVersion} runs again", record.ToVersion, record.Deadline, record.FromVersion);
                await ReportAsync(record, AgentUpdateOutcome.RolledBack, $"version {record.ToVersion} did not check in within the window; {record.FromVersion} was restored", ct);
                break;
            case StartAction.ReportOutcome:
                await ReportAsync(record!, AgentUpdateOutcome.Updated, null, ct);
                break;
            case StartAction.TooLate:
                logger.LogWarning("Version {ToVersion} started after its deadline {Deadline}: the watchdog restores {FromVersion}", record!.ToVersion, record.Deadline, record.FromVersion);
                break;
        }
    }

    /// <summary>
    /// When a check is due and the agent is at a safe point: asks for the version to run, and updates to it.
    /// Returns normally when there is nothing to do; ends the runtime with <see cref="AgentHandedOverException"/> when it hands over.
    /// </summary>
    public async Task CheckAsync(string jobsFolder, CancellationToken ct)
    {
        if (!Enabled || time.GetUtcNow() < nextCheck)
        {
            return;
        }
        if (!UpdateDecisions.SafePointOf(JobJournal.Unfinished(jobsFolder)).IsSafe)
        {
            return;
        }
        nextCheck = time.GetUtcNow() + TimeSpan.FromSeconds(options.UpdateCheckSeconds);
        AgentUpdateOffer? offer;
        try
        {
            offer = await gateway.GetUpdateOfferAsync(ct);
        }
        catch (HttpRequestException e)
        {
            logger.LogWarning("Could not ask the server for the agent version to run ({Reason}); asking again later", e.Message);
            return;
        }
        var record = state.Load();
        var installed = installation.InstalledVersion;
        var decision = UpdateDecisions.Consider(offer, installed, record);
        if (decision != OfferDecision.Update)
        {
            return;
        }
        logger.LogInformation("The server wants version {Version} (this is {Installed}); downloading it", offer!.Version, installed);
        byte[] package;
        try
        {
            package = await gateway.DownloadUpdateAsync(offer.PackageId, offer.SizeBytes, ct);
        }
        catch (Exception e) when (e is HttpRequestException or GatewayRejectedException)
        {
            logger.LogWarning("The download of version {Version} failed ({Reason}); trying again later", offer.Version, e.Message);
            return;
        }
        var verdict = UpdateDecisions.Verify(offer, package, publisherKeys);
        if (verdict != PackageVerdict.Good)
        {
            logger.LogError("Version {Version} refused: {Reason}", offer.Version, UpdateDecisions.Explain(verdict));
            var refused = new UpdateRecord
            {
                FromVersion = installed,
                ToVersion = offer.Version,
                PackageId = offer.PackageId,
                Phase = UpdatePhase.RolledBack,
                Reported = true,
                FailedVersions = [.. (record?.FailedVersions ?? []).Append(offer.Version).Distinct(StringComparer.OrdinalIgnoreCase)],
            };
            state.Save(refused);
            await ReportAsync(refused, AgentUpdateOutcome.Refused, UpdateDecisions.Explain(verdict), ct);
            return;
        }
        // The package is checked once more right before the hand-over: no job may have begun meanwhile.
        if (!UpdateDecisions.SafePointOf(JobJournal.Unfinished(jobsFolder)).IsSafe)
        {
            return;
        }
        var staged = Stage(offer.Version, package);
        var now = time.GetUtcNow();
        var handedOver = new UpdateRecord
        {
            FromVersion = installed,
            ToVersion = offer.Version,
            PackageId = offer.PackageId,
            Phase = UpdatePhase.HandedOver,
            HandedOverAt = now,
            Deadline = now + TimeSpan.FromSeconds(options.UpdateCheckInSeconds),
            FailedVersions = record?.FailedVersions ?? [],
        };
        state.Save(handedOver);
        logger.LogInformation("Handing over from {FromVersion} to {ToVersion}; it must check in by {Deadline}", installed, offer.Version, handedOver.Deadline);
        await installation.HandOverAsync(handedOver, staged, state, ct);
        throw new AgentHandedOverException($"Handed over to version {offer.Version}.");
    }

    /// <summary>Unpacks the verified package into its own folder (entries that would land outside it are refused by the extractor).</summary>
    private string Stage(string version, byte[] package)
    {
        var folder = Path.Combine(state.StagingFolder, version);
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
        Directory.CreateDirectory(folder);
        using var zip = new ZipArchive(new MemoryStream(package), ZipArchiveMode.Read);
        zip.ExtractToDirectory(folder);
        return folder;
    }

    private async Task ReportAsync(UpdateRecord record, AgentUpdateOutcome outcome, string? message, CancellationToken ct)
    {
        try
        {
            await gateway.ReportUpdateAsync(new AgentUpdateReport(record.FromVersion, record.ToVersion, outcome, message), ct);
            state.Change(r => r with { Reported = true });
        }
        catch (Exception e) when (e is HttpRequestException or GatewayRejectedException)
        {
            // Sent again at the next start.
            logger.LogWarning("The update's outcome did not reach the server ({Reason}); it is sent again at the next start", e.Message);
        }
    }
}
