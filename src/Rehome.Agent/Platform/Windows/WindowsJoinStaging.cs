using System.Runtime.Versioning;
using System.Security.AccessControl;
using System.Security.Cryptography;
using System.Security.Principal;
using System.Text;
using Rehome.Protocol;

namespace Rehome.Agent.Platform.Windows;

/// <summary>
/// The destination join data between staging and
/// applying, in a folder only SYSTEM and Administrators can open.
/// The offline join blob holds the new computer account's password, so it is also sealed with DPAPI (machine scope);
/// the provisioning package stays a plain .ppkg because Install-ProvisioningPackage reads it. Both are deleted once
/// applied; a fingerprint of the applied join remains so that a replayed join step knows it is done.
/// </summary>
[SupportedOSPlatform("windows")]
internal sealed class WindowsJoinStaging(string folder)
{
    private static readonly byte[] Entropy = "Rehome offline join"u8.ToArray();

    public static string DefaultFolder => Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.CommonApplicationData), "Rehome", "staging");

    public string PackagePath => Path.Combine(folder, "destination.ppkg");

    private string OfflineJoinPath => Path.Combine(folder, "offline-join.sealed");

    private string AppliedPath => Path.Combine(folder, "applied.txt");

    public void StageOfflineJoin(byte[] provisioningData)
    {
        Reset();
        WriteAtomically(OfflineJoinPath, ProtectedData.Protect(provisioningData, Entropy, DataProtectionScope.LocalMachine));
    }

    public void StagePackage(byte[] package)
    {
        Reset();
        WriteAtomically(PackagePath, package);
    }

    public byte[]? ReadOfflineJoin() => File.Exists(OfflineJoinPath)
        ? ProtectedData.Unprotect(File.ReadAllBytes(OfflineJoinPath), Entropy, DataProtectionScope.LocalMachine)
        : null;

    public bool HasPackage => File.Exists(PackagePath);

    public bool WasApplied(DestinationJoin join) => File.Exists(AppliedPath) && File.ReadAllText(AppliedPath) == Fingerprint(join);

    /// <summary>Records that <paramref name="join"/> is applied and deletes the secrets it needed.</summary>
    public void MarkApplied(DestinationJoin join)
    {
        WriteAtomically(AppliedPath, Encoding.UTF8.GetBytes(Fingerprint(join)));
        File.Delete(OfflineJoinPath);
        File.Delete(PackagePath);
    }

    /// <summary>Forgets everything staged or applied.</summary>
    public void Reset()
    {
        if (Directory.Exists(folder))
        {
            File.Delete(OfflineJoinPath);
            File.Delete(PackagePath);
            File.Delete(AppliedPath);
        }
    }

    private static string Fingerprint(DestinationJoin join)
    {
        var text = string.Join('\n', join.Kind, join.Offline, join.DomainDnsName, join.TenantId, join.ComputerName, join.ProvisioningData);
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    private void WriteAtomically(string path, byte[] content)
    {
        EnsureFolder();
        var temporary = path + ".tmp";
        File.WriteAllBytes(temporary, content);
        File.Move(temporary, path, overwrite: true);
    }

    private void EnsureFolder()
    {
        var security = new DirectorySecurity();
        security.SetAccessRuleProtection(isProtected: true, preserveInheritance: false);
        foreach (var account in new[] { WellKnownSidType.LocalSystemSid, WellKnownSidType.BuiltinAdministratorsSid })
        {
            security.AddAccessRule(new FileSystemAccessRule(
                new SecurityIdentifier(account, null),
                FileSystemRights.FullControl,
                InheritanceFlags.ContainerInherit | InheritanceFlags.ObjectInherit,
                PropagationFlags.None,
                AccessControlType.Allow));
        }

        var directory = new DirectoryInfo(folder);
        if (directory.Exists)
        {
            directory.SetAccessControl(security);
        }
        else
        {
            directory.Create(security);
        }
    }
}
