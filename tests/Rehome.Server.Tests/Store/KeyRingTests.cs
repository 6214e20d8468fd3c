using Microsoft.Extensions.DependencyInjection;
using Rehome.Server.Secrets;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Store;

/// <summary>What the server says at start of how the Data Protection key ring it keeps in the store is protected.</summary>
public sealed class KeyRingTests
{
    [Fact]
    public async Task Without_a_key_certificate_the_server_warns_once_that_the_key_ring_is_unencrypted_and_how_to_fix_it()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // DPAPI protects the key ring there.
        }
        await using var host = await ServerHost.StartAsync(StoreProvider.Sqlite);
        await using (var scope = host.Scope())
        {
            scope.ServiceProvider.GetRequiredService<SecretProtector>().Protect("a secret, so that a key exists");
        }

        var warning = Assert.Single(host.Logs.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("unencrypted", StringComparison.OrdinalIgnoreCase));
        Assert.Contains(SecretsOptions.Section + ":KeyCertificatePath", warning, StringComparison.Ordinal);
    }
}
