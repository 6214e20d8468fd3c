using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rehome.Core.Policies;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Api;

/// <summary>Connections, policies and the secrets they hold; run against SQLite and PostgreSQL.</summary>
public abstract class ConnectionsAndSecretsSuite(ServerHost host)
{
    private HttpClient Client => host.Client;

    [Fact]
    public async Task A_source_connection_shows_its_configuration_key_once_and_stores_only_its_hash()
    {
        var created = await Client.PostJsonAsync("/api/v1/connections", new { name = ApiClient.Unique("src"), role = "Source", kind = "ActiveDirectory" });
        var key = created.GetProperty("configurationKey").GetString()!;
        var id = created.GetProperty("connection").Id();

        var read = await Client.GetJsonAsync($"/api/v1/connections/{id}");
        Assert.DoesNotContain(key, read.GetRawText(), StringComparison.Ordinal);
        Assert.True(read.GetProperty("source").GetProperty("hasConfigurationKey").GetBoolean());

        var rotated = await Client.PostJsonAsync($"/api/v1/connections/{id}/configuration-key", new { }, HttpStatusCode.OK);
        var newKey = rotated.GetProperty("configurationKey").GetString()!;
        Assert.NotEqual(key, newKey);
        await using var scope = host.Scope();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        var stored = await db.Connections.AsNoTracking().SingleAsync(c => c.Id == id);
        Assert.Equal(Core.Connections.ConfigurationKeys.Hash(newKey), stored.ConfigurationKeyHash);
    }

    [Fact]
    public async Task Secrets_are_encrypted_at_rest_and_never_in_an_answer_or_a_log()
    {
        const string clientSecret = "CLIENT-SECRET-7f3a9c";
        const string adminPassword = "Break-Glass-Pa55word-91xz";
        const string servicePassword = "SERVICE-ACCOUNT-PW-55e1";
        var (tenantId, clientId) = (Guid.NewGuid(), Guid.NewGuid());
        var source = await Client.PostJsonAsync("/api/v1/connections", new
        {
            name = ApiClient.Unique("src"),
            role = "Source",
            kind = "HybridIdentity",
            source = new
            {
                breakGlassAdministratorName = "rescue",
                breakGlassAdministratorPassword = adminPassword,
                entraId = new { tenantId, clientId, clientSecret, enabled = true },
            },
        });
        var destination = await Client.PostJsonAsync("/api/v1/connections", new
        {
            name = ApiClient.Unique("dst"),
            role = "Destination",
            kind = "ActiveDirectory",
            destination = new
            {
                domainDnsName = "fabrikam.example",
                targetOu = "OU=Migrated,DC=fabrikam,DC=example",
                rejoinMethod = "Online",
                serviceAccountName = "FABRIKAM\\svc-join",
                serviceAccountPassword = servicePassword,
            },
        });
        var sourceId = source.GetProperty("connection").Id();
        // An update that leaves the secrets out keeps them (for the same tenant and app).
        await (await Client.PutAsync($"/api/v1/connections/{sourceId}", System.Net.Http.Json.JsonContent.Create(new
        {
            name = source.GetProperty("connection").GetProperty("name").GetString(),
            role = "Source",
            kind = "HybridIdentity",
            source = new { breakGlassAdministratorName = "rescue", entraId = new { tenantId, clientId, enabled = true } },
        }, options: ServerHost.Json))).JsonAsync(HttpStatusCode.OK);

        var answers = string.Join("\n",
            source.GetRawText(), destination.GetRawText(),
            (await Client.GetJsonAsync("/api/v1/connections")).GetRawText(),
            (await Client.GetJsonAsync($"/api/v1/connections/{sourceId}")).GetRawText(),
            (await Client.GetJsonAsync("/api/v1/audit?pageSize=1000")).GetRawText());
        var logs = string.Join("\n", host.Logs.Lines);
        foreach (var secret in new[] { clientSecret, adminPassword, servicePassword })
        {
            Assert.DoesNotContain(secret, answers, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, logs, StringComparison.Ordinal);
        }
        var view = await Client.GetJsonAsync($"/api/v1/connections/{sourceId}");
        Assert.True(view.GetProperty("source").GetProperty("entraId").GetProperty("hasClientSecret").GetBoolean());
        Assert.True(view.GetProperty("source").GetProperty("hasBreakGlassAdministratorPassword").GetBoolean());

        await using var scope = host.Scope();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        var stored = await db.Connections.AsNoTracking().SingleAsync(c => c.Id == sourceId);
        Assert.NotNull(stored.EntraClientSecretProtected);
        Assert.DoesNotContain(clientSecret, stored.EntraClientSecretProtected, StringComparison.Ordinal);
        var protector = scope.ServiceProvider.GetRequiredService<Secrets.SecretProtector>();
        Assert.Equal(clientSecret, protector.Unprotect(stored.EntraClientSecretProtected));
        Assert.Equal(adminPassword, protector.Unprotect(stored.BreakGlassAdministratorPasswordProtected!));
    }

    [Fact]
    public async Task A_connection_that_breaks_rules_gets_problem_json_naming_each_field()
    {
        var response = await Client.PostAsJsonAsync("/api/v1/connections", new
        {
            name = "",
            role = "Destination",
            kind = "ActiveDirectory",
            destination = new { domainDnsName = "not a domain", targetOu = "Computers", rejoinMethod = "Offline" },
        }, ServerHost.Json);

        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.JsonAsync(HttpStatusCode.BadRequest);
        var fields = problem.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("field").GetString()).ToList();
        Assert.Equal(["name", "destination.domainDnsName", "destination.targetOu"], fields);
    }

    [Fact]
    public async Task Connection_names_are_unique()
    {
        var name = ApiClient.Unique("src");
        await Client.PostJsonAsync("/api/v1/connections", new { name, role = "Source", kind = "ActiveDirectory" });

        var problem = await Client.PostJsonAsync("/api/v1/connections", new { name, role = "Source", kind = "ActiveDirectory" }, HttpStatusCode.Conflict);

        Assert.Equal("NameTaken", problem.GetProperty("rule").GetString());
    }

    [Fact]
    public async Task A_connection_used_by_a_project_cannot_be_deleted()
    {
        var projectId = await Client.CreateProjectAsync();
        var project = await Client.GetJsonAsync($"/api/v1/projects/{projectId}");
        var sourceId = project.GetProperty("sourceConnectionId").GetGuid();

        var problem = await (await Client.DeleteAsync(new Uri($"/api/v1/connections/{sourceId}", UriKind.Relative))).JsonAsync(HttpStatusCode.Conflict);

        Assert.Equal("ConnectionInUse", problem.GetProperty("rule").GetString());
    }

    [Fact]
    public async Task A_project_refuses_connections_in_the_wrong_roles()
    {
        var source = await Client.PostJsonAsync("/api/v1/connections", new { name = ApiClient.Unique("src"), role = "Source", kind = "ActiveDirectory" });
        var policy = await Client.PostJsonAsync("/api/v1/policies", new { name = ApiClient.Unique("policy") });
        var sourceId = source.GetProperty("connection").Id();

        var problem = await Client.PostJsonAsync("/api/v1/projects", new
        {
            name = ApiClient.Unique("project"),
            sourceConnectionId = sourceId,
            destinationConnectionId = sourceId,
            policyId = policy.Id(),
        }, HttpStatusCode.BadRequest);

        Assert.Equal("WrongRole", problem.GetProperty("rule").GetString());
    }

    [Fact]
    public async Task A_provisioning_package_is_stored_encrypted_and_no_read_ever_returns_it_only_its_size()
    {
        var package = System.Text.Encoding.UTF8.GetBytes("PPKG-SECRET-" + Guid.NewGuid().ToString("N"));
        var created = await Client.PostJsonAsync("/api/v1/connections", AgentWorld.EntraDestination());
        var id = created.GetProperty("connection").Id();

        var uploaded = await Client.UploadPackageAsync(id, package);

        Assert.Equal(package.Length, uploaded.GetProperty("destination").GetProperty("bulkEnrollmentPackageBytes").GetInt64());
        var answers = string.Join("\n", uploaded.GetRawText(),
            (await Client.GetJsonAsync("/api/v1/connections")).GetRawText(),
            (await Client.GetJsonAsync($"/api/v1/connections/{id}")).GetRawText(),
            (await Client.GetJsonAsync("/api/v1/audit?pageSize=1000")).GetRawText(),
            string.Join("\n", host.Logs.Lines));
        Assert.DoesNotContain("PPKG-SECRET-", answers, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(package)[..16], answers, StringComparison.Ordinal);
        await using var scope = host.Scope();
        var stored = await scope.ServiceProvider.GetRequiredService<RehomeDbContext>().ConnectionPackages.AsNoTracking().SingleAsync(p => p.ConnectionId == id);
        Assert.DoesNotContain("PPKG-SECRET-", System.Text.Encoding.UTF8.GetString(stored.ProtectedContent), StringComparison.Ordinal);
        Assert.Equal(package, scope.ServiceProvider.GetRequiredService<Secrets.SecretProtector>().UnprotectBytes(stored.ProtectedContent));
    }

    [Fact]
    public async Task Removing_a_provisioning_package_deletes_it_and_the_view_shows_none()
    {
        var id = (await Client.PostJsonAsync("/api/v1/connections", AgentWorld.EntraDestination())).GetProperty("connection").Id();
        await Client.UploadPackageAsync(id, [1, 2, 3]);

        await (await Client.DeleteAsync(new Uri($"/api/v1/connections/{id}/bulk-enrollment-package", UriKind.Relative))).JsonAsync(HttpStatusCode.NoContent);

        var view = await Client.GetJsonAsync($"/api/v1/connections/{id}");
        Assert.Equal(JsonValueKind.Null, view.GetProperty("destination").GetProperty("bulkEnrollmentPackageBytes").ValueKind);
        await using var scope = host.Scope();
        Assert.False(await scope.ServiceProvider.GetRequiredService<RehomeDbContext>().ConnectionPackages.AnyAsync(p => p.ConnectionId == id));
    }

    [Fact]
    public async Task A_provisioning_package_is_refused_on_an_Active_Directory_connection_and_when_empty_and_nothing_changes()
    {
        var id = (await Client.PostJsonAsync("/api/v1/connections", new { name = ApiClient.Unique("src"), role = "Source", kind = "ActiveDirectory" }))
            .GetProperty("connection").Id();

        var refused = await Client.UploadPackageAsync(id, [1, 2, 3], HttpStatusCode.BadRequest);
        var entra = (await Client.PostJsonAsync("/api/v1/connections", AgentWorld.EntraDestination())).GetProperty("connection").Id();
        var empty = await Client.UploadPackageAsync(entra, [], HttpStatusCode.BadRequest);

        Assert.Equal("NotEntraId", refused.GetProperty("rule").GetString());
        Assert.Equal("bulkEnrollmentPackage", empty.GetProperty("errors")[0].GetProperty("field").GetString());
        Assert.Equal(JsonValueKind.Null, (await Client.GetJsonAsync($"/api/v1/connections/{entra}")).GetProperty("destination").GetProperty("bulkEnrollmentPackageBytes").ValueKind);
    }

    [Fact]
    public async Task A_provisioning_package_larger_than_the_limit_gets_413_before_its_body_is_read()
    {
        var id = (await Client.PostJsonAsync("/api/v1/connections", AgentWorld.EntraDestination())).GetProperty("connection").Id();
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/connections/{id}/bulk-enrollment-package")
        {
            Content = new StreamContent(new MemoryStream(new byte[1024])),
        };
        request.Content.Headers.ContentLength = Core.Connections.ConnectionRules.BulkEnrollmentPackageMaxBytes + 1;
        request.Headers.ExpectContinue = true;

        var response = await Client.SendAsync(request);

        var problem = await response.JsonAsync(HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal("PackageTooLarge", problem.GetProperty("rule").GetString());
        Assert.Equal(JsonValueKind.Null, (await Client.GetJsonAsync($"/api/v1/connections/{id}")).GetProperty("destination").GetProperty("bulkEnrollmentPackageBytes").ValueKind);
    }

    [Fact]
    public async Task An_Entra_ID_destination_joined_online_is_refused_naming_the_rejoin_method()
    {
        var problem = await Client.PostJsonAsync("/api/v1/connections", new
        {
            name = ApiClient.Unique("dst"),
            role = "Destination",
            kind = "EntraId",
            destination = new { rejoinMethod = "Online" },
        }, HttpStatusCode.BadRequest);

        Assert.Equal("EntraIdOnlineNotSupported", problem.GetProperty("rule").GetString());
        Assert.Equal("destination.rejoinMethod", problem.GetProperty("errors")[0].GetProperty("field").GetString());
    }

    /// <summary>A value for every setting, none of them its default (checked below, so a new setting cannot be left out).</summary>
    private static readonly PolicySettings EverySetting = new()
    {
        ForcedRejoin = new() { Enabled = false, SnoozeAllowed = false, ForceAfter = TimeSpan.FromHours(2), Silent = true },
        CacheUserCredentials = false,
        ReuseExistingComputerObject = true,
        Autopilot = new() { Register = true, GroupTag = "Fabrikam-Laptops" },
        IdentityMapping = new()
        {
            UpnPrefixAutoMapping = false,
            Users = [new(@"CONTOSO\ann", @"FABRIKAM\anne")],
            Groups = [new(@"CONTOSO\Sales", @"FABRIKAM\Sales-EU")],
            Domains = [new("CONTOSO", "FABRIKAM")],
        },
        Areas = new() { FileSystemPaths = [@"D:\Data", AreaSettings.EveryFixedVolume], RegistryKeys = [@"HKLM\SOFTWARE\Contoso"], Kinds = AreaKinds.Shares | AreaKinds.UserHives },
        AreasToIgnore = new() { FileSystemPaths = [@"C:\Windows"], RegistryKeys = [@"HKLM\SOFTWARE\Microsoft"], Kinds = AreaKinds.Printers },
        ReaclMode = ReaclMode.Add,
        HybridRegistrationWaitSeconds = 7200,
        DeviceOfflineLimit = TimeSpan.FromHours(12),
    };

    [Fact]
    public async Task A_policy_keeps_every_setting()
    {
        var sent = Leaves(EverySetting, "settings");
        var defaults = Leaves(new PolicySettings(), "settings");
        Assert.All(sent, leaf => Assert.True(leaf.Value != defaults[leaf.Key], $"{leaf.Key} is its default in the test's policy: give it another value."));

        var created = await Client.PostJsonAsync("/api/v1/policies", new { name = ApiClient.Unique("policy"), settings = EverySetting });
        var read = await Client.GetJsonAsync($"/api/v1/policies/{created.Id()}");

        var readBack = Leaves(read.GetProperty("settings").Deserialize<PolicySettings>(ServerHost.Json)!, "settings");
        Assert.Equal(sent, readBack);
    }

    /// <summary>
    /// Every setting of a settings record by its path, as JSON text: records of the model are walked property by
    /// property; anything else (a number, a flag, a list of pairs) is one setting.
    /// </summary>
    private static SortedDictionary<string, string> Leaves(object? value, string path, SortedDictionary<string, string>? into = null)
    {
        into ??= new(StringComparer.Ordinal);
        var type = value?.GetType();
        // An array's namespace is its element's: lists are single settings, not records to walk.
        if (type is not null && type.Namespace == typeof(PolicySettings).Namespace && type.IsClass && !type.IsArray)
        {
            foreach (var property in type.GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance))
            {
                Leaves(property.GetValue(value), $"{path}.{property.Name}", into);
            }
            return into;
        }
        into[path] = JsonSerializer.Serialize(value, ServerHost.Json);
        return into;
    }
}

public sealed class ConnectionsAndSecretsOnSqlite(SqliteServer server) : ConnectionsAndSecretsSuite(server.Host), IClassFixture<SqliteServer>;

public sealed class ConnectionsAndSecretsOnPostgres(PostgresServer server) : ConnectionsAndSecretsSuite(server.Host), IClassFixture<PostgresServer>;
