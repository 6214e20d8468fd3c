using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.EntityFrameworkCore;
using Rehome.Server.Auth;
using Rehome.Server.Store;

namespace Rehome.Server.Console;

/// <summary>
/// The console's cookie names a server-side session (<see cref="ConsoleSignIn"/>) and is taken only while that
/// session is open, its account enabled and the account's security stamp the one the cookie was issued with.
/// Checked on every request that uses the cookie: one lookup by primary key, cheaper than any cache that would
/// let a signed-out cookie work for a few more seconds.
/// </summary>
public static class ConsoleSignIns
{
    /// <summary>The claim holding the session's id.</summary>
    public const string SessionClaim = "rehome:session";

    /// <summary>How stale a session's <c>last_seen_at</c> may get: writing it on every request would make each read a write.</summary>
    private static readonly TimeSpan LastSeenResolution = TimeSpan.FromMinutes(1);

    /// <summary>Opens a session for an account whose credentials were checked, and issues its cookie.</summary>
    public static async Task SignInAsync(HttpContext http, Account account)
    {
        var db = http.RequestServices.GetRequiredService<RehomeDbContext>();
        var now = http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        var session = new ConsoleSignIn { Id = Guid.CreateVersion7(now), AccountId = account.Id, CreatedAt = now, LastSeenAt = now };
        db.ConsoleSignIns.Add(session);
        await db.SaveChangesAsync(http.RequestAborted);
        await http.SignInAsync(ConsoleServiceCollectionExtensions.CookieScheme, new ClaimsPrincipal(new ClaimsIdentity(
            [
                new Claim(ClaimTypes.NameIdentifier, account.Id.ToString()),
                new Claim(ClaimTypes.Name, account.UserName),
                new Claim(ClaimTypes.Role, account.Role.ToString()),
                new Claim(Roles.SecurityStampClaim, account.SecurityStamp),
                new Claim(SessionClaim, session.Id.ToString()),
            ], ConsoleServiceCollectionExtensions.CookieScheme)));
    }

    /// <summary>Ends the request's session on the server (so a copy of its cookie opens nothing) and clears the cookie.</summary>
    public static async Task SignOutAsync(HttpContext http)
    {
        var result = await http.AuthenticateAsync(ConsoleServiceCollectionExtensions.CookieScheme);
        if (SessionOf(result.Principal) is { } id)
        {
            var now = http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
            await http.RequestServices.GetRequiredService<RehomeDbContext>().ConsoleSignIns
                .Where(s => s.Id == id && s.EndedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.EndedAt, now), http.RequestAborted);
        }
        await http.SignOutAsync(ConsoleServiceCollectionExtensions.CookieScheme);
    }

    /// <summary>The cookie handler's check of every cookie it reads: a cookie whose session is over is refused and cleared.</summary>
    public static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var services = context.HttpContext.RequestServices;
        var db = services.GetRequiredService<RehomeDbContext>();
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        var lastSeen = await OpenSessionLastSeenAsync(db, context.Principal, context.HttpContext.RequestAborted);
        if (lastSeen is null)
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(ConsoleServiceCollectionExtensions.CookieScheme);
            return;
        }
        if (now - lastSeen.Value > LastSeenResolution)
        {
            var id = SessionOf(context.Principal)!.Value;
            await db.ConsoleSignIns.Where(s => s.Id == id).ExecuteUpdateAsync(s => s.SetProperty(x => x.LastSeenAt, now), context.HttpContext.RequestAborted);
        }
    }

    /// <summary>
    /// When the principal's session was last seen, if it is still open for an enabled account with the stamp the
    /// cookie carries; null when the cookie must be refused.
    /// </summary>
    public static async Task<DateTimeOffset?> OpenSessionLastSeenAsync(RehomeDbContext db, ClaimsPrincipal? principal, CancellationToken ct)
    {
        if (SessionOf(principal) is not { } id || principal!.FindFirstValue(Roles.SecurityStampClaim) is not { } stamp)
        {
            return null;
        }
        var found = await db.ConsoleSignIns.AsNoTracking().Where(s => s.Id == id)
            .Join(db.Accounts, s => s.AccountId, a => a.Id, (s, a) => new { s.EndedAt, s.LastSeenAt, a.DisabledAt, a.SecurityStamp })
            .FirstOrDefaultAsync(ct);
        return found is { EndedAt: null, DisabledAt: null } && found.SecurityStamp == stamp ? found.LastSeenAt : null;
    }

    private static Guid? SessionOf(ClaimsPrincipal? principal) =>
        Guid.TryParse(principal?.FindFirstValue(SessionClaim), out var id) ? id : null;
}

/// <summary>
/// An interactive page lives over its circuit for as long as the tab is open, without new requests: its
/// session is checked again every half minute, and a page whose session ended (signed out elsewhere, password
/// changed, account disabled) loses its signed-in user.
/// </summary>
internal sealed class ConsoleSessionRevalidation(ILoggerFactory logs, IServiceScopeFactory scopes)
    : RevalidatingServerAuthenticationStateProvider(logs)
{
    protected override TimeSpan RevalidationInterval => TimeSpan.FromSeconds(30);

    protected override async Task<bool> ValidateAuthenticationStateAsync(AuthenticationState authenticationState, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        return await ConsoleSignIns.OpenSessionLastSeenAsync(db, authenticationState.User, cancellationToken) is not null;
    }
}
