using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Rehome.Protocol;
using Rehome.Server.Auth;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Api;

/// <summary>Issue 15's fleet kept current, the server's side: signed agent packages, the version agents run, what agents are told; on SQLite and PostgreSQL.</summary>
public abstract class AgentPackagesSuite(ServerHost host, AgentPublisher publisher)
{
    private HttpClient Client => host.Client;

    private static string NewVersion() => $"9.{RandomNumberGenerator.GetInt32(1, 1_000_000)}.{RandomNumberGenerator.GetInt32(1, 1_000_000)}";

    private async Task<JsonElement> ListAsync() => await Client.GetJsonAsync("/api/v1/agent-packages");

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage answer, HttpStatusCode status)
    {
        var text = await answer.Content.ReadAsStringAsync();
        Assert.True(answer.StatusCode == status, $"{(int)answer.StatusCode}: {text}");
        Assert.Equal("application/problem+json", answer.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(text).RootElement;
    }

    private static string FieldOf(JsonElement problem) => problem.GetProperty("errors")[0].GetProperty("field").GetString()!;

    [Fact]
    public async Task An_uploaded_package_is_listed_with_its_size_hash_publisher_and_uploader_and_audited()
    {
        var version = NewVersion();
        var content = AgentPublisher.Zip(version);

        var created = await publisher.PublishAsync(Client, version, content);

        var listed = (await ListAsync()).GetProperty("packages").EnumerateArray().Single(p => p.GetProperty("version").GetString() == version);
        Assert.Equal(created.Id(), listed.Id());
        Assert.Equal(content.Length, listed.GetProperty("sizeBytes").GetInt64());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(content)), listed.GetProperty("sha256").GetString());
        Assert.Equal(PackageSignature.Fingerprint(publisher.Key.ExportSubjectPublicKeyInfo()), listed.GetProperty("publisherKey").GetString());
        Assert.Equal("admin", listed.GetProperty("uploadedBy").GetString());
        Assert.False(listed.GetProperty("isCurrent").GetBoolean());
        var audit = await Client.GetJsonAsync("/api/v1/audit?action=agent-package.upload");
        Assert.Contains(audit.GetProperty("items").EnumerateArray(), e => e.GetProperty("target").GetString() == $"agent-package/{created.Id()}");
    }

    [Fact]
    public async Task A_package_signed_by_a_key_the_server_does_not_trust_is_refused_naming_the_signature_and_nothing_is_stored()
    {
        var version = NewVersion();
        var content = AgentPublisher.Zip(version);
        using var stranger = new AgentPublisher();

        var problem = await ProblemAsync(await AgentPublisher.UploadAsync(Client, version, stranger.Sign(content), content), HttpStatusCode.BadRequest);

        Assert.Equal("signature", FieldOf(problem));
        Assert.Equal("SignatureInvalid", problem.GetProperty("rule").GetString());
        Assert.DoesNotContain((await ListAsync()).GetProperty("packages").EnumerateArray(), p => p.GetProperty("version").GetString() == version);
    }

    [Fact]
    public async Task A_signature_over_other_bytes_is_refused()
    {
        var version = NewVersion();
        var content = AgentPublisher.Zip(version);

        var problem = await ProblemAsync(await AgentPublisher.UploadAsync(Client, version, publisher.Sign(AgentPublisher.Zip(version)), content), HttpStatusCode.BadRequest);

        Assert.Equal("signature", FieldOf(problem));
    }

    [Theory]
    [InlineData("latest")]
    [InlineData("1")]
    [InlineData("1.2.3.4.5")]
    [InlineData("1.2.3-beta")]
    [InlineData("1.2.3\n<script>")]
    public async Task A_version_agents_could_not_compare_is_refused_naming_the_version(string version)
    {
        var content = AgentPublisher.Zip("1.0.0");

        var problem = await ProblemAsync(await AgentPublisher.UploadAsync(Client, version, publisher.Sign(content), content), HttpStatusCode.BadRequest);

        Assert.Equal("version", FieldOf(problem));
        Assert.DoesNotContain("<script>", problem.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_that_is_not_a_zip_is_refused_naming_the_package_even_when_signed()
    {
        var content = "MZ this is not a zip"u8.ToArray();

        var problem = await ProblemAsync(await AgentPublisher.UploadAsync(Client, NewVersion(), publisher.Sign(content), content), HttpStatusCode.BadRequest);

        Assert.Equal("package", FieldOf(problem));
        Assert.Equal("NotAZip", problem.GetProperty("rule").GetString());
    }

    [Fact]
    public async Task A_package_over_the_limit_is_refused_with_413_naming_the_package()
    {
        var content = new byte[PublisherServer.MaxPackageBytes + 1];

        var problem = await ProblemAsync(await AgentPublisher.UploadAsync(Client, NewVersion(), publisher.Sign(content), content), HttpStatusCode.RequestEntityTooLarge);

        Assert.Equal("package", FieldOf(problem));
    }

    [Fact]
    public async Task A_second_package_of_the_same_version_is_refused()
    {
        var version = NewVersion();
        await publisher.PublishAsync(Client, version);
        var content = AgentPublisher.Zip(version);

        var problem = await ProblemAsync(await AgentPublisher.UploadAsync(Client, version, publisher.Sign(content), content), HttpStatusCode.Conflict);

        Assert.Equal("AgentVersionExists", problem.GetProperty("rule").GetString());
    }

    [Fact]
    public async Task A_viewer_lists_packages_but_neither_uploads_nor_marks_nor_deletes_them()
    {
        var package = await publisher.PublishAsync(Client, NewVersion());
        var viewer = await host.CreateAsync(Role.Viewer);
        using var client = host.ClientWith(viewer.Token);
        var content = AgentPublisher.Zip("1.0.0");

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/api/v1/agent-packages", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await AgentPublisher.UploadAsync(client, NewVersion(), publisher.Sign(content), content)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PutAsJsonAsync("/api/v1/agent-packages/current", new { packageId = package.Id() })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.DeleteAsync(new Uri($"/api/v1/agent-packages/{package.Id()}", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task An_agent_is_offered_the_current_version_downloads_exactly_its_bytes_and_its_connection_can_run_another()
    {
        using var device = await host.EnrollDeviceAsync(AgentWorld.EntraDestination());
        var currentVersion = NewVersion();
        var currentBytes = AgentPublisher.Zip(currentVersion);
        var current = await publisher.PublishAsync(Client, currentVersion, currentBytes);
        var pilot = await publisher.PublishAsync(Client, NewVersion());
        await AgentPublisher.MarkCurrentAsync(Client, current.Id());

        var offer = await device.Agent.GetFromJsonAsync<AgentUpdateOffer>("/agent/v1/update", AgentProtocol.JsonOptions);
        var download = await device.Agent.GetByteArrayAsync(new Uri($"/agent/v1/update/{offer!.PackageId}", UriKind.Relative));
        var other = await device.Agent.GetAsync(new Uri($"/agent/v1/update/{pilot.Id()}", UriKind.Relative));
        await AgentPublisher.MarkCurrentAsync(Client, pilot.Id(), device.SourceId);
        var pilotOffer = await device.Agent.GetFromJsonAsync<AgentUpdateOffer>("/agent/v1/update", AgentProtocol.JsonOptions);

        Assert.Equal(currentVersion, offer.Version);
        Assert.Equal(currentBytes, download);
        // The signature uploaded with the package (ECDSA's DER signatures differ in length from one signing to the next).
        Assert.True(publisher.Key.VerifyData(download, Convert.FromBase64String(offer.Signature), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        Assert.Equal(pilot.Id(), pilotOffer!.PackageId);
        var marked = await ProblemAsync(await Client.DeleteAsync(new Uri($"/api/v1/agent-packages/{current.Id()}", UriKind.Relative)), HttpStatusCode.Conflict);
        Assert.Equal("AgentPackageInUse", marked.GetProperty("rule").GetString());
        await AgentPublisher.MarkCurrentAsync(Client, null, device.SourceId);
        await AgentPublisher.MarkCurrentAsync(Client, null);
        Assert.Equal(HttpStatusCode.NoContent, (await device.Agent.GetAsync(new Uri("/agent/v1/update", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task An_agents_rollback_report_shows_on_the_agent_and_in_the_audit_and_a_bad_report_is_refused_naming_the_field()
    {
        using var device = await host.EnrollDeviceAsync(AgentWorld.EntraDestination());

        var sent = await device.Agent.PostAsJsonAsync("/agent/v1/update/report",
            new AgentUpdateReport("1.0.0", "2.0.0", AgentUpdateOutcome.RolledBack, "did not check in"), AgentProtocol.JsonOptions);
        var bad = await device.Agent.PostAsJsonAsync("/agent/v1/update/report",
            new AgentUpdateReport("1.0.0", "two", AgentUpdateOutcome.Updated), AgentProtocol.JsonOptions);

        Assert.Equal(HttpStatusCode.NoContent, sent.StatusCode);
        var agent = await Client.GetJsonAsync($"/api/v1/agents/{device.AgentId}");
        Assert.Equal("RolledBack", agent.GetProperty("lastUpdate").GetProperty("outcome").GetString());
        Assert.Contains("2.0.0", agent.GetProperty("lastUpdate").GetProperty("message").GetString(), StringComparison.Ordinal);
        var audit = await Client.GetJsonAsync("/api/v1/audit?action=agent.update.rolled-back");
        Assert.Contains(audit.GetProperty("items").EnumerateArray(), e => e.GetProperty("target").GetString() == $"agent/{device.AgentId}");
        Assert.Equal("toVersion", FieldOf(await ProblemAsync(bad, HttpStatusCode.BadRequest)));
    }

    [Fact]
    public async Task Marking_a_package_current_for_a_destination_connection_is_refused_naming_the_connection()
    {
        var package = await publisher.PublishAsync(Client, NewVersion());
        using var device = await host.EnrollDeviceAsync(AgentWorld.EntraDestination());

        var answer = await Client.PutAsJsonAsync("/api/v1/agent-packages/current", new { packageId = package.Id(), connectionId = device.DestinationId });

        Assert.Equal("connectionId", FieldOf(await ProblemAsync(answer, HttpStatusCode.BadRequest)));
    }
}

public sealed class AgentPackagesOnSqlite(PublisherServer server) : AgentPackagesSuite(server.Host, server.Publisher), IClassFixture<PublisherServer>;

public sealed class AgentPackagesOnPostgres(PostgresPublisherServer server) : AgentPackagesSuite(server.Host, server.Publisher), IClassFixture<PostgresPublisherServer>;

/// <summary>A server that trusts no publisher refuses every package, saying how to trust one.</summary>
public sealed class AgentPackagesWithoutPublisher(SqliteServer server) : IClassFixture<SqliteServer>
{
    [Fact]
    public async Task Without_a_publisher_key_every_upload_is_refused_saying_which_setting_to_set()
    {
        using var publisher = new AgentPublisher();
        var content = AgentPublisher.Zip("2.0.0");

        var answer = await AgentPublisher.UploadAsync(server.Host.Client, "2.0.0", publisher.Sign(content), content);

        Assert.Equal(HttpStatusCode.Conflict, answer.StatusCode);
        Assert.Contains("Rehome:AgentUpdates:PublisherKeys", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
