using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.Options;
using Rehome.Server.Hosting;
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
        services.AddSettings<SecretsOptions>(configuration, SecretsOptions.Section);
        var options = configuration.GetSection(SecretsOptions.Section).Get<SecretsOptions>() ?? new SecretsOptions();
        if (!string.IsNullOrEmpty(options.KeyCertificatePath) && !File.Exists(options.KeyCertificatePath))
        {
            // Read here, before the host starts: said with the setting's name, not as a bare file error.
            throw new OptionsValidationException(SecretsOptions.Section, typeof(SecretsOptions),
                [$"{SecretsOptions.Section}:{nameof(SecretsOptions.KeyCertificatePath)}: no file at '{options.KeyCertificatePath}'."]);
        }
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
        else
        {
            // Unencrypted, said so: the framework's own warning (at each new key, without the fix) gives way to
            // the one at every start below.
            services.Configure<KeyManagementOptions>(o => o.XmlEncryptor = new NullXmlEncryptor());
            services.AddHostedService<UnprotectedKeyRingWarning>();
        }
        services.AddSingleton<SecretProtector>();
        return services;
    }
}

/// <summary>Says once at start, when the key ring sits unencrypted beside the secrets it protects, how to protect it.</summary>
internal sealed class UnprotectedKeyRingWarning(ILogger<UnprotectedKeyRingWarning> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        logger.LogWarning(
            "The Data Protection key ring is stored unencrypted in the store, beside the secrets it protects: whoever reads the " +
            "database can decrypt them. Set {Setting} (and {PasswordSetting}) to a PFX file whose certificate encrypts the keys, " +
            "e.g. made with: openssl req -x509 -newkey rsa:3072 -nodes -days 3650 -subj /CN=rehome-keys -keyout keys.key -out keys.crt " +
            "&& openssl pkcs12 -export -inkey keys.key -in keys.crt -out keys.pfx",
            $"{SecretsOptions.Section}:{nameof(SecretsOptions.KeyCertificatePath)}",
            $"{SecretsOptions.Section}:{nameof(SecretsOptions.KeyCertificatePassword)}");
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
