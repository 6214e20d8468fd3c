using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.EntityFrameworkCore;
using Rehome.Server.Api;
using Rehome.Server.Audit;
using Rehome.Server.Auth;
using Rehome.Server.Store;

namespace Rehome.Server.Console;

/// <summary>
/// Runs each console action in its own service scope (a fresh store context, as one API request has), acting
/// as the signed-in account: an interactive page lives for minutes over its circuit, and one long-lived
/// context would serve stale rows and cannot run two queries at once. Each action declares the least role it
/// needs, the same as the API endpoint that does the same thing, and is checked against the account as the
/// store has it now (a role narrowed, an account disabled or a password changed since the page opened counts),
/// with the account's project limits applied to the scope.
/// </summary>
public sealed class ConsoleSession(IServiceScopeFactory scopes, AuthenticationStateProvider authentication)
{
    /// <summary>What any signed-in account may do for itself (its own tokens).</summary>
    public static readonly Role? AnySignedIn = null;

    public async Task<T> RunAsync<T>(Role? least, Func<IServiceProvider, Task<T>> work)
    {
        var user = await UserAsync();
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        var account = await AccountAsync(db, user);
        if (account is null || (least is { } needed && !Roles.Covers(account.Role, needed)))
        {
            // The page hides what the role cannot do; this is reached only by a page opened before a change.
            throw new ConsoleAccessDeniedException(least);
        }
        await ProjectLimits.ApplyAsync(db, account.Id, CancellationToken.None);
        scope.ServiceProvider.GetRequiredService<AuditTrail>().ActAs(account.UserName);
        return await work(scope.ServiceProvider);
    }

    /// <summary>Resolves <typeparamref name="TService"/> in a fresh scope and runs <paramref name="work"/> with it.</summary>
    public Task<T> RunAsync<TService, T>(Role? least, Func<TService, Task<T>> work)
        where TService : notnull =>
        RunAsync(least, services => work(services.GetRequiredService<TService>()));

    public async Task<Guid> AccountIdAsync() => AuthApi.AccountId(await UserAsync());

    /// <summary>Whether the page shows what needs <paramref name="least"/> (by the cookie's role; each action checks again).</summary>
    public async Task<bool> MayAsync(Role least) => Roles.Of(await UserAsync()) is { } held && Roles.Covers(held, least);

    /// <summary>The cookie's role, for a page that offers what the role may do (a token's scope, say).</summary>
    public async Task<Role?> RoleAsync() => Roles.Of(await UserAsync());

    private async Task<ClaimsPrincipal> UserAsync() => (await authentication.GetAuthenticationStateAsync()).User;

    private static async Task<Account?> AccountAsync(RehomeDbContext db, ClaimsPrincipal user)
    {
        if (ProjectLimits.AccountOf(user) is not { } id)
        {
            return null;
        }
        var account = await db.Accounts.AsNoTracking().FirstOrDefaultAsync(a => a.Id == id);
        return account is { DisabledAt: null } && account.SecurityStamp == user.FindFirstValue(Roles.SecurityStampClaim) ? account : null;
    }
}

/// <summary>A console action refused: the account's role (as the store has it now) does not cover the action's.</summary>
public sealed class ConsoleAccessDeniedException(Role? least)
    : InvalidOperationException(least is { } role ? $"This action needs the {role} role." : "This action needs a signed-in account.");
