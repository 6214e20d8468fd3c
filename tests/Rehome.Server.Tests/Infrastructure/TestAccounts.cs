using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using Rehome.Server.Auth;
using Rehome.Server.Store;

namespace Rehome.Server.Tests.Infrastructure;

/// <summary>An account made directly in the store, with a password (for the console) and one API token.</summary>
public sealed record TestAccount(Guid Id, string UserName, string Password, Role Role, string Token)
{
    public HttpClient Client(ServerHost host) => host.ClientWith(Token);
}

/// <summary>Accounts of every role, limited to projects or not, made as an administrator would (through the store).</summary>
public static class TestAccounts
{
    public const string Password = "Test-Role-Password-2026";

    /// <summary>
    /// An account of <paramref name="role"/> limited to <paramref name="projects"/> (none: all projects), with a token
    /// that expires at <paramref name="tokenExpiresAt"/>, revoked when <paramref name="revoked"/>.
    /// </summary>
    public static async Task<TestAccount> CreateAsync(
        this ServerHost host, Role role, Guid[]? projects = null, DateTimeOffset? tokenExpiresAt = null, bool revoked = false, bool disabled = false)
    {
        await using var scope = host.Scope();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        var now = host.Time.GetUtcNow();
        var account = new Account
        {
            Id = Guid.NewGuid(),
            UserName = ApiClient.Unique(role.ToString().ToLowerInvariant()),
            PasswordHash = Passwords.Hash(Password),
            Role = role,
            CreatedAt = now,
            DisabledAt = disabled ? now : null,
        };
        db.Accounts.Add(account);
        foreach (var project in projects ?? [])
        {
            db.AccountProjects.Add(new AccountProject { AccountId = account.Id, ProjectId = project });
        }
        var (token, secret) = ApiTokens.Issue(account.Id, "test", now, tokenExpiresAt);
        token.RevokedAt = revoked ? now : null;
        db.ApiTokens.Add(token);
        await db.SaveChangesAsync();
        return new TestAccount(account.Id, account.UserName, Password, role, secret);
    }

    /// <summary>A client that sends <paramref name="token"/> as its bearer token.</summary>
    public static HttpClient ClientWith(this ServerHost host, string token)
    {
        var client = new HttpClient { BaseAddress = host.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>Signs in through the console's form (with its antiforgery token) and returns the cookies the browser would hold.</summary>
    public static async Task<string> ConsoleCookiesAsync(this ServerHost host, string userName, string password)
    {
        using var console = new ConsoleClient(host.BaseAddress);
        Assert.True(await console.SignInAsync(userName, password), $"The console sign-in of {userName} failed.");
        return console.CookieHeader;
    }
}
