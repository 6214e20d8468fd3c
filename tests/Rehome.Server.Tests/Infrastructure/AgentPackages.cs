using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Rehome.Server.Store;

namespace Rehome.Server.Tests.Infrastructure;

/// <summary>An agent package publisher: its key pair, signed zips, and uploads through the API.</summary>
public sealed class AgentPublisher : IDisposable
{
    public ECDsa Key { get; } = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    /// <summary>The public key as the server's and agents' settings take it.</summary>
    public string PublicKeyPem => Key.ExportSubjectPublicKeyInfoPem();

    /// <summary>A zip of the agent's (pretend) files for <paramref name="version"/>.</summary>
    public static byte[] Zip(string version)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            using var writer = new StreamWriter(zip.CreateEntry("rehome-agent.dll").Open());
            writer.Write("agent " + version + " " + Guid.NewGuid());
        }
        return buffer.ToArray();
    }

    /// <summary>The detached signature (DER ECDSA over SHA-256, as openssl dgst -sha256 -sign makes it), base64.</summary>
    public string Sign(byte[] content) => Convert.ToBase64String(Key.SignData(content, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));

    public static Task<HttpResponseMessage> UploadAsync(HttpClient client, string version, string signature, byte[] content)
    {
        var body = new ByteArrayContent(content);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/zip");
        return client.PostAsync(new Uri($"/api/v1/agent-packages?version={Uri.EscapeDataString(version)}&signature={Uri.EscapeDataString(signature)}", UriKind.Relative), body);
    }

    /// <summary>Uploads a signed package of <paramref name="version"/> and returns its view.</summary>
    public async Task<JsonElement> PublishAsync(HttpClient client, string version, byte[]? content = null)
    {
        content ??= Zip(version);
        return await (await UploadAsync(client, version, Sign(content), content)).JsonAsync(HttpStatusCode.Created);
    }

    public static async Task MarkCurrentAsync(HttpClient client, Guid? packageId, Guid? connectionId = null)
    {
        var answer = await client.PutAsJsonAsync("/api/v1/agent-packages/current", new { packageId, connectionId });
        Assert.True(answer.StatusCode == HttpStatusCode.NoContent, await answer.Content.ReadAsStringAsync());
    }

    public void Dispose() => Key.Dispose();
}

/// <summary>A server on SQLite that trusts <see cref="Publisher"/> and takes packages of at most 64 KiB.</summary>
public sealed class PublisherServer : IAsyncLifetime
{
    public const long MaxPackageBytes = 64 * 1024;

    public AgentPublisher Publisher { get; } = new();

    public ServerHost Host { get; private set; } = null!;

    public async Task InitializeAsync() => Host = await ServerHost.StartAsync(StoreProvider.Sqlite, Settings(Publisher));

    public static Dictionary<string, string?> Settings(AgentPublisher publisher) => new()
    {
        ["Rehome:AgentUpdates:PublisherKeys:0"] = publisher.PublicKeyPem,
        ["Rehome:AgentUpdates:MaxPackageBytes"] = MaxPackageBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Rehome:Gateway:EnrollmentsPerMinute"] = "10000",
    };

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        Publisher.Dispose();
    }
}

/// <summary>The same on a fresh PostgreSQL database.</summary>
public sealed class PostgresPublisherServer : IAsyncLifetime
{
    public AgentPublisher Publisher { get; } = new();

    public ServerHost Host { get; private set; } = null!;

    public async Task InitializeAsync() => Host = await ServerHost.StartAsync(StoreProvider.PostgreSql, PublisherServer.Settings(Publisher));

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        Publisher.Dispose();
    }
}
