using System.Net;
using System.Net.Http.Json;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Api;

/// <summary>The first administrator, the last one, and the way back in when nobody can sign in as one.</summary>
public sealed class AdministratorRecoveryTests
{
    [Fact]
    public async Task The_last_enabled_administrator_cannot_be_disabled_deleted_or_demoted()
    {
        await using var host = await ServerHost.StartAsync(StoreProvider.Sqlite);
        var me = (await host.Client.GetJsonAsync("/api/v1/auth/me")).Id();

        var disable = await host.Client.PostJsonAsync($"/api/v1/accounts/{me}/disable", new { }, HttpStatusCode.Conflict);
        var demote = await (await host.Client.PutAsJsonAsync($"/api/v1/accounts/{me}", new { role = "Operator" }, ServerHost.Json)).JsonAsync(HttpStatusCode.Conflict);
        var delete = await (await host.Client.DeleteAsync(new Uri($"/api/v1/accounts/{me}", UriKind.Relative))).JsonAsync(HttpStatusCode.Conflict);

        Assert.All([disable, demote, delete], p => Assert.Equal("LastAdministrator", p.GetProperty("rule").GetString()));
        var account = await host.Client.GetJsonAsync($"/api/v1/accounts/{me}");
        Assert.Equal("Administrator", account.GetProperty("role").GetString());
    }

    [Fact]
    public async Task A_weak_bootstrap_password_stops_the_server_naming_the_setting()
    {
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            ServerHost.StartAsync(StoreProvider.Sqlite, new() { ["Rehome:Bootstrap:AdminPassword"] = "admin12345" }));

        Assert.Contains("Rehome:Bootstrap:AdminPassword", refused.Message, StringComparison.Ordinal);
        Assert.Contains("at least 14 characters", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("admin12345", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tokens_that_never_expire_are_made_when_the_server_allows_them()
    {
        await using var host = await ServerHost.StartAsync(StoreProvider.Sqlite, new() { ["Rehome:Auth:AllowTokensWithoutExpiry"] = "true" });

        var created = await host.Client.PostJsonAsync("/api/v1/tokens", new { name = "forever", neverExpires = true });

        Assert.Equal(System.Text.Json.JsonValueKind.Null, created.GetProperty("expiresAt").ValueKind);
    }

    [Fact]
    public async Task A_server_whose_administrator_password_is_lost_gets_it_back_with_the_recovery_setting()
    {
        var folder = Path.Combine(Path.GetTempPath(), "rehome-tests", Guid.NewGuid().ToString("N"));
        await using (var first = await ServerHost.StartLiveAsync(folder: folder))
        {
            first.KeepFolder = true;
            await first.Client.PostJsonAsync("/api/v1/auth/password",
                new { currentPassword = ServerHost.AdminPassword, newPassword = "Forgotten-At-Once-42" }, HttpStatusCode.NoContent);
            Assert.Equal(HttpStatusCode.Unauthorized,
                (await first.Anonymous.PostAsJsonAsync("/api/v1/auth/token", new { userName = "admin", password = ServerHost.AdminPassword }, ServerHost.Json)).StatusCode);
        }

        // The host signs in with the configured password when it starts: that it starts at all is the recovery.
        await using var recovered = await ServerHost.StartLiveAsync(new() { ["Rehome:Bootstrap:RecoverAdministrator"] = "true" }, folder);

        var audit = await recovered.Client.GetJsonAsync("/api/v1/audit?action=auth.recover");
        Assert.Equal(1, audit.GetProperty("total").GetInt32());
    }
}
