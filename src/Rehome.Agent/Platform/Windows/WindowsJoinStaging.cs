using System.Security.Cryptography;
using System.Text;
using Rehome.Agent.Journal;
using Rehome.Protocol;

namespace Rehome.Agent.Platform.Windows;

/// <summary>What a staged join keeps until it is applied.</summary>
internal enum StagedSecret
{
    /// <summary>The djoin blob (it holds the computer account's password).</summary>
    OfflineJoin,

    /// <summary>The online join's one-time password of the pre-created computer account.</summary>
    OneTimePassword,

    /// <summary>The bulk enrollment provisioning package (Install-ProvisioningPackage reads it as a file).</summary>
    Package,
}

/// <summary>
/// A join applied that completes at the next restart, journaled in the staging folder when it is applied.
/// </summary>
/// <param name="Purpose">Destination or return ticket.</param>
/// <param name="Fingerprint">Which join (purpose, kind, method, domain or tenant, name; never its secrets).</param>
/// <param name="Where">The domain's DNS name or the tenant id the device belongs to after the restart.</param>
/// <param name="ComputerName">The name it has then.</param>
/// <param name="BootCount">The boot count when it was applied: once the count grew, the restart has completed it.</param>
/// <param name="Applied">False while the call that applies it may have run or not (written before the call, so a
/// crash in between is known on the replay).</param>
internal sealed record PendingJoinRecord(JoinPurpose Purpose, string Fingerprint, string Where, string ComputerName, long BootCount, bool Applied);

/// <summary>How the staging folder and its secrets are protected: the folder's ACL, and DPAPI as defence in depth.</summary>
internal interface IStagingProtection
{
    /// <summary>
    /// Creates the folder, or takes it back: owned by Administrators, protected DACL granting SYSTEM and
    /// Administrators only. Refuses a folder that is a link (someone else's folder behind our name).
    /// </summary>
    void SecureFolder(string folder);

    byte[] Seal(byte[] secret);

    byte[] Unseal(byte[] sealedSecret);
}

/// <summary>
/// The join data between staging and applying, per purpose (the destination join and the return ticket), in
/// <c>%ProgramData%\Rehome\staging</c>. The folder's ACL (SYSTEM and Administrators only) is what protects the
/// secrets from local users; DPAPI machine scope, which any local process may unseal, is defence in depth only.
/// Secrets are deleted once applied; the journal of the pending join (<see cref="PendingJoinRecord"/>) stays until
/// the restart completed it, so that a replayed apply knows it is done.
/// </summary>
internal sealed class WindowsJoinStaging(string folder, IStagingProtection protection)
{
    private const string PendingFile = "pending-join.json";

    public static string DefaultFolder => Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.CommonApplicationData), "Rehome", "staging");

    public string Folder => folder;

    /// <summary>Where the provisioning package of <paramref name="purpose"/> is (Install-ProvisioningPackage reads it there).</summary>
    public string PackagePath(JoinPurpose purpose) => PathOf(purpose, StagedSecret.Package);

    /// <summary>Replaces whatever <paramref name="purpose"/> had staged with <paramref name="data"/>.</summary>
    public void Stage(JoinPurpose purpose, StagedSecret kind, byte[] data)
    {
        protection.SecureFolder(folder);
        DeleteSecrets(purpose);
        // The package stays a plain file (Install-ProvisioningPackage reads it); the folder's ACL protects it.
        var content = kind == StagedSecret.Package ? data : protection.Seal(data);
        var path = PathOf(purpose, kind);
        var temporary = path + ".tmp";
        // A new file, never one left behind (it could be a link to a file someone else reads).
        File.Delete(temporary);
        using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            stream.Write(content);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>The staged secret of <paramref name="purpose"/>, or null when none is staged.</summary>
    public byte[]? Read(JoinPurpose purpose, StagedSecret kind)
    {
        var path = PathOf(purpose, kind);
        if (!File.Exists(path))
        {
            return null;
        }

        var content = File.ReadAllBytes(path);
        return kind == StagedSecret.Package ? content : protection.Unseal(content);
    }

    public bool Has(JoinPurpose purpose, StagedSecret kind) => File.Exists(PathOf(purpose, kind));

    public void DeleteSecrets(JoinPurpose purpose)
    {
        foreach (var kind in Enum.GetValues<StagedSecret>())
        {
            var path = PathOf(purpose, kind);
            if (File.Exists(path))
            {
                File.Delete(path);
            }
        }
    }

    /// <summary>Forgets every staged secret (not the journal of an applied join: that one is real on the device).</summary>
    public void DiscardStaged()
    {
        DeleteSecrets(JoinPurpose.Destination);
        DeleteSecrets(JoinPurpose.Return);
    }

    public PendingJoinRecord? ReadPending()
    {
        try
        {
            return DurableFile.ReadJson<PendingJoinRecord>(Path.Combine(folder, PendingFile));
        }
        catch (System.Text.Json.JsonException)
        {
            // Only the agent writes it, atomically; unreadable means it is not ours to trust.
            return null;
        }
    }

    public void WritePending(PendingJoinRecord record)
    {
        protection.SecureFolder(folder);
        DurableFile.WriteJson(Path.Combine(folder, PendingFile), record);
    }

    public void ClearPending()
    {
        var path = Path.Combine(folder, PendingFile);
        if (File.Exists(path))
        {
            File.Delete(path);
        }
    }

    /// <summary>Identifies a join without its secrets (the return ticket comes back from the job's journal without them).</summary>
    public static string Fingerprint(JoinPurpose purpose, DestinationJoin join)
    {
        var text = string.Join('\n', purpose, join.Kind, join.Offline, join.DomainDnsName?.ToUpperInvariant(), join.TenantId?.ToUpperInvariant(), join.ComputerName.ToUpperInvariant());
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    private string PathOf(JoinPurpose purpose, StagedSecret kind) => Path.Combine(folder, kind switch
    {
        StagedSecret.OfflineJoin => $"{purpose.ToString().ToLowerInvariant()}.offline-join.sealed",
        StagedSecret.OneTimePassword => $"{purpose.ToString().ToLowerInvariant()}.one-time-password.sealed",
        _ => $"{purpose.ToString().ToLowerInvariant()}.ppkg",
    });
}
