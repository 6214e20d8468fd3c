using System.Security.Cryptography;
using Rehome.Agent.Journal;
using Rehome.Protocol;

namespace Rehome.Agent.Updates;

/// <summary>Whether the agent may update now, and why not.</summary>
public sealed record SafePoint(bool IsSafe, string Reason)
{
    public static SafePoint Safe { get; } = new(true, "No job is open.");
}

/// <summary>What to do with the server's offer.</summary>
public enum OfferDecision
{
    /// <summary>No version is set, or it is the one installed.</summary>
    Nothing,

    /// <summary>This version rolled back or was refused here before: it is not tried again.</summary>
    FailedBefore,

    Update,
}

/// <summary>Why a downloaded package is refused (or not).</summary>
public enum PackageVerdict
{
    Good,
    SizeMismatch,
    HashMismatch,
    SignatureInvalid,
    NoPublisherKey,
}

/// <summary>What the agent does at its start about an update in progress.</summary>
public enum StartAction
{
    Nothing,

    /// <summary>This is the new version, in time: check in (report its facts), then confirm.</summary>
    CheckIn,

    /// <summary>This is the new version, too late: the watchdog restores the previous one; nothing to confirm.</summary>
    TooLate,

    /// <summary>This is the previous version, back: the update rolled back; report it.</summary>
    ReportRollback,

    /// <summary>The outcome is known but the server has not heard it yet.</summary>
    ReportOutcome,
}

/// <summary>What the watchdog does while the new version has not checked in.</summary>
public enum WatchAction
{
    /// <summary>The new version checked in (or the update is over): nothing left to watch.</summary>
    Done,

    Wait,

    /// <summary>The deadline passed without a check-in: restore the previous version.</summary>
    RollBack,
}

/// <summary>
/// The update's decisions, as plain functions over plain data: when the agent may update, which offers it takes,
/// whether a package is the one its publisher signed, and what to do at a start and while watching a new version.
/// </summary>
public static class UpdateDecisions
{
    /// <summary>
    /// Safe when no job journal is open: never during a job, and never between leaving the source and the job's
    /// end (that journal stays open until the job ends, even across restarts and lost leases).
    /// </summary>
    public static SafePoint SafePointOf(IReadOnlyList<JobJournal> unfinished) => unfinished.Count == 0 ? SafePoint.Safe
        : new(false, $"Job {unfinished[0].JobId} is open ({unfinished[0].Record.Phase}{(unfinished[0].Record.RunningStep is { } step ? ", at " + step : "")}).");

    public static OfferDecision Consider(AgentUpdateOffer? offer, string installedVersion, UpdateRecord? record) =>
        offer is null || string.Equals(offer.Version, installedVersion, StringComparison.OrdinalIgnoreCase) ? OfferDecision.Nothing
        : record?.FailedVersions.Contains(offer.Version, StringComparer.OrdinalIgnoreCase) == true ? OfferDecision.FailedBefore
        : OfferDecision.Update;

    /// <summary>
    /// The package must be the size and hash the offer says AND carry a signature by the publisher key this agent
    /// was installed with: the server's word alone is never enough (a server taken over must not push code).
    /// </summary>
    public static PackageVerdict Verify(AgentUpdateOffer offer, byte[] package, IReadOnlyList<byte[]> publisherKeys)
    {
        if (publisherKeys.Count == 0)
        {
            return PackageVerdict.NoPublisherKey;
        }
        if (package.LongLength != offer.SizeBytes)
        {
            return PackageVerdict.SizeMismatch;
        }
        var hash = SHA256.HashData(package);
        if (!string.Equals(PackageSignature.Sha256Hex(hash), offer.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            return PackageVerdict.HashMismatch;
        }
        byte[] signature;
        try
        {
            signature = Convert.FromBase64String(offer.Signature);
        }
        catch (FormatException)
        {
            return PackageVerdict.SignatureInvalid;
        }
        return PackageSignature.SignerOf(hash, signature, publisherKeys) is null ? PackageVerdict.SignatureInvalid : PackageVerdict.Good;
    }

    public static string Explain(PackageVerdict verdict) => verdict switch
    {
        PackageVerdict.SizeMismatch => "the download is not the size the server announced",
        PackageVerdict.HashMismatch => "the download's SHA-256 is not the one the server announced",
        PackageVerdict.SignatureInvalid => "the signature does not verify with the publisher key this agent was installed with",
        PackageVerdict.NoPublisherKey => "this agent has no publisher key (Rehome:Agent:UpdatePublisherKey)",
        _ => "the package is good",
    };

    public static StartAction AtStart(UpdateRecord? record, string installedVersion, DateTimeOffset now)
    {
        if (record is null)
        {
            return StartAction.Nothing;
        }
        var isNew = string.Equals(installedVersion, record.ToVersion, StringComparison.OrdinalIgnoreCase);
        return record.Phase switch
        {
            UpdatePhase.HandedOver when isNew => now <= record.Deadline ? StartAction.CheckIn : StartAction.TooLate,
            // The previous version runs again while the record still says "handed over": the new one never took
            // (the hand-over failed, or the watchdog restored it before it could write the record).
            UpdatePhase.HandedOver => StartAction.ReportRollback,
            UpdatePhase.RolledBack when !record.Reported => StartAction.ReportRollback,
            UpdatePhase.Confirmed when !record.Reported => StartAction.ReportOutcome,
            _ => StartAction.Nothing,
        };
    }

    public static WatchAction Watch(UpdateRecord? record, DateTimeOffset now) =>
        record is not { Phase: UpdatePhase.HandedOver } ? WatchAction.Done
        : now > record.Deadline ? WatchAction.RollBack
        : WatchAction.Wait;
}
