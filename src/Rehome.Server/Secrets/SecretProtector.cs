using Microsoft.AspNetCore.DataProtection;

namespace Rehome.Server.Secrets;

/// <summary>
/// Encrypts connection secrets (client secrets, passwords, later join blobs) at rest with ASP.NET Core Data
/// Protection, whose keys live in the store so that every replica can read what another wrote.
/// </summary>
public sealed class SecretProtector(IDataProtectionProvider provider)
{
    private readonly IDataProtector _protector = provider.CreateProtector("Rehome.Secrets.v1");

    public string Protect(string secret) => _protector.Protect(secret);

    public string Unprotect(string protectedSecret) => _protector.Unprotect(protectedSecret);

    /// <summary>A secret file (a provisioning package), encrypted and authenticated as a whole.</summary>
    public byte[] ProtectBytes(byte[] secret) => _protector.Protect(secret);

    public byte[] UnprotectBytes(byte[] protectedSecret) => _protector.Unprotect(protectedSecret);

    /// <summary>Protects <paramref name="secret"/> when given, otherwise keeps <paramref name="current"/>.</summary>
    public string? ProtectOrKeep(string? secret, string? current) => secret is null ? current : Protect(secret);
}
