using System.Security.Cryptography;
using Rehome.Protocol;

namespace Rehome.Agent.Enrollment;

/// <summary>The device's key pair (ECDSA P-256): the private half stays with the OS; the agent only asks it to sign.</summary>
public interface IDeviceKey : IDisposable
{
    /// <summary>The public key as SubjectPublicKeyInfo (DER).</summary>
    byte[] PublicKey { get; }

    /// <summary>Where the private key is kept, for the log (e.g. "TPM (Microsoft Platform Crypto Provider)").</summary>
    string KeptIn { get; }

    /// <summary>ECDSA with SHA-256 over <paramref name="data"/>, IEEE P1363.</summary>
    byte[] Sign(byte[] data);
}

/// <summary>Who the device is: its hardware identity and its key, made at first use and kept by the device, not by the agent's install.</summary>
public interface IDeviceIdentity
{
    /// <summary>Windows: the SMBIOS system UUID; a simulated device: an id kept in its folder.</summary>
    string ReadHardwareId();

    /// <summary>The device key: opened where it is kept, or made there the first time.</summary>
    IDeviceKey OpenOrCreateKey();
}

/// <summary>The proofs the agent sends, signed by the device key.</summary>
public static class DeviceProofs
{
    public static EnrollRequest Enrollment(string configurationKey, DeviceFacts facts, IDeviceIdentity identity, DateTimeOffset now)
    {
        using var key = identity.OpenOrCreateKey();
        return new EnrollRequest(configurationKey, facts,
            DeviceProof.ForEnrollment(configurationKey, facts.DeviceName, key.PublicKey, identity.ReadHardwareId(), now, key.Sign));
    }

    public static BindIdentityRequest Binding(Guid agentId, IDeviceIdentity identity, DateTimeOffset now)
    {
        using var key = identity.OpenOrCreateKey();
        return new BindIdentityRequest(DeviceProof.ForBinding(agentId, key.PublicKey, identity.ReadHardwareId(), now, key.Sign));
    }
}

/// <summary>
/// A device key in a PKCS#8 file only the agent's account can read (mode 0600): the simulated device's, and the
/// key of an agent on a system without a key store of its own.
/// </summary>
public sealed class FileDeviceKey : IDeviceKey
{
    private readonly ECDsa key;

    private FileDeviceKey(ECDsa key, string path)
    {
        this.key = key;
        KeptIn = path;
        PublicKey = key.ExportSubjectPublicKeyInfo();
    }

    public byte[] PublicKey { get; }

    public string KeptIn { get; }

    public byte[] Sign(byte[] data) => key.SignData(data, HashAlgorithmName.SHA256);

    public void Dispose() => key.Dispose();

    public static FileDeviceKey OpenOrCreate(string path)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        if (File.Exists(path))
        {
            key.ImportPkcs8PrivateKey(File.ReadAllBytes(path), out _);
            return new FileDeviceKey(key, path);
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        // Written aside, closed to others, then moved in: a crash never leaves half a key, and no moment sees it readable.
        var temporary = path + ".new";
        File.WriteAllBytes(temporary, key.ExportPkcs8PrivateKey());
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        File.Move(temporary, path, overwrite: false);
        return new FileDeviceKey(key, path);
    }
}

/// <summary>A device identity kept in a folder: <c>device-key.p8</c> and <c>hardware-id</c> (a simulated device's, made at first use).</summary>
public sealed class FolderDeviceIdentity(string folder) : IDeviceIdentity
{
    public const string KeyFileName = "device-key.p8";

    public string ReadHardwareId()
    {
        var path = Path.Combine(folder, "hardware-id");
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(folder);
            File.WriteAllText(path, Guid.NewGuid().ToString("D").ToUpperInvariant());
        }
        return File.ReadAllText(path).Trim();
    }

    public IDeviceKey OpenOrCreateKey() => FileDeviceKey.OpenOrCreate(Path.Combine(folder, KeyFileName));
}
