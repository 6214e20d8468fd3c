using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using Rehome.Agent.Enrollment;

namespace Rehome.Agent.Platform.Windows;

/// <summary>Where machine keys are kept (CNG key storage providers), by provider name; the seam under <see cref="DeviceKeyProviders"/>.</summary>
internal interface IMachineKeyStore
{
    /// <summary>The named machine key in <paramref name="provider"/>, or null when it has none (or the provider is absent).</summary>
    IDeviceKey? Open(string provider, string name);

    /// <summary>Makes a non-exportable ECDSA P-256 machine key; throws <see cref="CryptographicException"/> when the provider cannot.</summary>
    IDeviceKey Create(string provider, string name);
}

/// <summary>Which provider keeps the device key: the TPM where there is one, else the software provider.</summary>
internal static class DeviceKeyProviders
{
    public const string Platform = "Microsoft Platform Crypto Provider";

    public const string Software = "Microsoft Software Key Storage Provider";

    public const string KeyName = "Rehome Agent Device Key";

    /// <summary>
    /// The key where an earlier start made it (the TPM first), else a new one in the TPM, else (no TPM, or one
    /// that refuses) in software; <paramref name="noTpm"/> hears why the TPM was not used.
    /// </summary>
    public static IDeviceKey OpenOrCreate(IMachineKeyStore store, Action<Exception> noTpm)
    {
        foreach (var provider in new[] { Platform, Software })
        {
            if (store.Open(provider, KeyName) is { } existing)
            {
                return existing;
            }
        }
        try
        {
            return store.Create(Platform, KeyName);
        }
        catch (CryptographicException e)
        {
            noTpm(e);
            return store.Create(Software, KeyName);
        }
    }
}

/// <summary>Reads the SMBIOS system UUID out of the raw table Windows returns for 'RSMB'.</summary>
internal static class SmbiosTables
{
    private const int HeaderLength = 8;
    private const byte SystemInformation = 1;

    /// <summary>The system UUID of the type 1 structure; null when absent, all zeros or all ones (not set, per the SMBIOS specification).</summary>
    public static Guid? SystemUuid(ReadOnlySpan<byte> rawSmbiosData)
    {
        if (rawSmbiosData.Length < HeaderLength)
        {
            return null;
        }
        var length = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(rawSmbiosData[4..]), (uint)(rawSmbiosData.Length - HeaderLength));
        var table = rawSmbiosData.Slice(HeaderLength, length);
        var at = 0;
        while (at + 4 <= table.Length)
        {
            var type = table[at];
            var formatted = table[at + 1];
            if (formatted < 4 || at + formatted > table.Length)
            {
                return null;
            }
            if (type == SystemInformation && formatted >= 0x18)
            {
                // SMBIOS 2.6+: the first three fields little-endian, as Guid reads them.
                var uuid = new Guid(table.Slice(at + 8, 16));
                return uuid == Guid.Empty || uuid == new Guid(Enumerable.Repeat((byte)0xFF, 16).ToArray()) ? null : uuid;
            }
            if (type == 127)
            {
                return null;
            }
            // The strings follow the formatted part and end with two zero bytes.
            var strings = at + formatted;
            while (strings + 1 < table.Length && (table[strings] != 0 || table[strings + 1] != 0))
            {
                strings++;
            }
            at = strings + 2;
        }
        return null;
    }
}

/// <summary>CNG machine keys: persisted, non-exportable, usable only by administrators and LocalSystem.</summary>
[SupportedOSPlatform("windows")]
internal sealed class CngMachineKeyStore : IMachineKeyStore
{
    public IDeviceKey? Open(string provider, string name)
    {
        try
        {
            return CngKey.Exists(name, new CngProvider(provider), CngKeyOpenOptions.MachineKey)
                ? new CngDeviceKey(CngKey.Open(name, new CngProvider(provider), CngKeyOpenOptions.MachineKey), provider)
                : null;
        }
        catch (CryptographicException)
        {
            // The provider is absent (no TPM): nothing kept there.
            return null;
        }
    }

    public IDeviceKey Create(string provider, string name) => new CngDeviceKey(CngKey.Create(CngAlgorithm.ECDsaP256, name, new CngKeyCreationParameters
    {
        Provider = new CngProvider(provider),
        KeyCreationOptions = CngKeyCreationOptions.MachineKey,
        ExportPolicy = CngExportPolicies.None,
        KeyUsage = CngKeyUsages.Signing,
    }), provider);

    private sealed class CngDeviceKey(CngKey key, string provider) : IDeviceKey
    {
        private readonly ECDsaCng ecdsa = new(key);

        public byte[] PublicKey => ecdsa.ExportSubjectPublicKeyInfo();

        public string KeptIn => provider == DeviceKeyProviders.Platform ? $"the TPM ({provider})" : provider;

        public byte[] Sign(byte[] data) => ecdsa.SignData(data, HashAlgorithmName.SHA256);

        public void Dispose()
        {
            ecdsa.Dispose();
            key.Dispose();
        }
    }
}

/// <summary>The Windows device's identity: its SMBIOS system UUID and a CNG machine key (TPM-backed where present).</summary>
[SupportedOSPlatform("windows")]
public sealed class WindowsDeviceIdentity(ILogger logger) : IDeviceIdentity
{
    private const uint RawSmbios = 0x52534D42; // 'RSMB'

    public string ReadHardwareId()
    {
        var size = NativeMethods.GetSystemFirmwareTable(RawSmbios, 0, null, 0);
        var buffer = new byte[size];
        if (size == 0 || NativeMethods.GetSystemFirmwareTable(RawSmbios, 0, buffer, size) != size)
        {
            throw new InvalidOperationException($"GetSystemFirmwareTable('RSMB') failed (error {Marshal.GetLastPInvokeError()}).");
        }
        return SmbiosTables.SystemUuid(buffer)?.ToString("D").ToUpperInvariant()
            ?? throw new InvalidOperationException("The firmware reports no SMBIOS system UUID.");
    }

    public IDeviceKey OpenOrCreateKey() => DeviceKeyProviders.OpenOrCreate(new CngMachineKeyStore(),
        e => logger.LogWarning("The TPM cannot keep the device key ({Reason}); it is kept by the software key storage provider", e.Message));
}
