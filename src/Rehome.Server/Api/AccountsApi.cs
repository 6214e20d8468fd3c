using System.Security.Claims;
using Rehome.Server.Administration;
using Rehome.Server.Auth;

namespace Rehome.Server.Api;

/// <summary>A new account: without a password it signs in through single sign-on only; no projects: every project.</summary>
public sealed record AccountInput(string? UserName, Role? Role, string? Password, IReadOnlyList<Guid>? Projects);

/// <summary>An account's role and the projects it is limited to (none: every project).</summary>
public sealed record AccountUpdateInput(Role? Role, IReadOnlyList<Guid>? Projects);

public sealed record PasswordResetInput(string? NewPassword);

/// <summary>An account as lists show it: never its password hash or stamp.</summary>
public sealed record AccountView(
    Guid Id, string UserName, Role Role, IReadOnlyList<Guid> Projects, bool HasPassword, string? ExternalIssuer,
    DateTimeOffset CreatedAt, DateTimeOffset? DisabledAt)
{
    public static AccountView From(Account account, IReadOnlyList<Guid> projects) => new(
        account.Id, account.UserName, account.Role, projects, account.PasswordHash is not null, account.ExternalIssuer,
        account.CreatedAt, account.DisabledAt);
}

/// <summary>/api/v1/accounts: administrators create, change, disable, enable, reset and delete accounts.</summary>
public static class AccountsApi
{
    public static RouteGroupBuilder MapAccountsApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/accounts").WithTags("Accounts").RequireRole(Role.Administrator);
        group.MapGet("/", async (AccountCommands accounts, CancellationToken ct) => Results.Ok(await accounts.ListAsync(ct)))
            .WithName("ListAccounts");
        group.MapGet("/{id:guid}", async (Guid id, AccountCommands accounts, CancellationToken ct) =>
            await accounts.GetAsync(id, ct) is { } account ? Results.Ok(account) : Problems.NotFound($"Account {id}"))
            .WithName("GetAccount");
        group.MapPost("/", async (AccountInput input, AccountCommands accounts, CancellationToken ct) =>
            (await accounts.CreateAsync(input, ct)).ToResult(created => Results.Created($"/api/v1/accounts/{created.Id}", created)))
            .WithName("CreateAccount");
        group.MapPut("/{id:guid}", async (Guid id, AccountUpdateInput input, ClaimsPrincipal user, AccountCommands accounts, CancellationToken ct) =>
            (await accounts.UpdateAsync(AuthApi.AccountId(user), id, input, ct)).ToResult(v => Results.Ok(v)))
            .WithName("UpdateAccount")
            .WithSummary("Sets an account's role and project limits; a role change ends its console sessions.");
        group.MapPost("/{id:guid}/disable", async (Guid id, ClaimsPrincipal user, AccountCommands accounts, CancellationToken ct) =>
            (await accounts.DisableAsync(AuthApi.AccountId(user), id, ct)).ToResult(v => Results.Ok(v)))
            .WithName("DisableAccount")
            .WithSummary("Disables an account: its tokens are revoked and its console sessions end at once.");
        group.MapPost("/{id:guid}/enable", async (Guid id, AccountCommands accounts, CancellationToken ct) =>
            (await accounts.EnableAsync(id, ct)).ToResult(v => Results.Ok(v)))
            .WithName("EnableAccount");
        group.MapPost("/{id:guid}/password", async (Guid id, PasswordResetInput input, AccountCommands accounts, CancellationToken ct) =>
            (await accounts.ResetPasswordAsync(id, input.NewPassword, ct)).ToResult(_ => Results.NoContent()))
            .WithName("ResetAccountPassword")
            .WithSummary("Sets a new password for an account; its tokens are revoked and its console sessions end.");
        group.MapDelete("/{id:guid}", async (Guid id, ClaimsPrincipal user, AccountCommands accounts, CancellationToken ct) =>
            (await accounts.DeleteAsync(AuthApi.AccountId(user), id, ct)).ToResult(_ => Results.NoContent()))
            .WithName("DeleteAccount");
        return api;
    }
}
