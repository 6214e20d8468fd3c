using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.DataProtection;
using Rehome.Server.Store;

namespace Rehome.Server.Secrets;

/// <summary>How the Data Protection key ring is itself protected. Bound from <c>Rehome:Secrets</c>.</summary>
public sealed class SecretsOptions
{
    public const string Section = "Rehome:Secrets";

    /// <summary>
    /// A PFX file whose certificate encrypts the key ring in the store. Without it (and off Windows, where DPAPI
    /// is used) the keys are stored unencrypted next to the secrets they protect, and the server logs a warning.
    /// </summary>
    public string? KeyCertificatePath { get; set; }

    public string? KeyCertificatePassword { get; set; }
}

public static class SecretsServiceCollectionExtensions
{
    /// <summary>Data Protection with its keys in the store (every replica reads them), protected as configured.</summary>
    public static IServiceCollection AddRehomeSecrets(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(SecretsOptions.Section).Get<SecretsOptions>() ?? new SecretsOptions();
        var builder = services.AddDataProtection().SetApplicationName("Rehome").PersistKeysToDbContext<RehomeDbContext>();
        if (!string.IsNullOrEmpty(options.KeyCertificatePath))
        {
            builder.ProtectKeysWithCertificate(
                X509CertificateLoader.LoadPkcs12FromFile(options.KeyCertificatePath, options.KeyCertificatePassword));
        }
        else if (OperatingSystem.IsWindows())
        {
            builder.ProtectKeysWithDpapi(protectToLocalMachine: true);
        }
        services.AddSingleton<SecretProtector>();
        return services;
    }
}
