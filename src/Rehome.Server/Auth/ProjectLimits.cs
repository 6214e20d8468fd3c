using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Rehome.Protocol;
using Rehome.Server.Store;

namespace Rehome.Server.Auth;

/// <summary>
/// Applies an account's project limits (<see cref="AccountProject"/>) to the unit of work that acts for it, as
/// <see cref="RehomeDbContext.VisibleProjects"/>: its tokens and its console cookie inherit them, and they are
/// read from the store on every request, so a change applies at once.
/// </summary>
public static class ProjectLimits
{
    /// <summary>Limits <paramref name="db"/> to the account's projects, if it has limits.</summary>
    public static async Task ApplyAsync(RehomeDbContext db, Guid accountId, CancellationToken ct)
    {
        var projects = await db.AccountProjects.AsNoTracking().Where(p => p.AccountId == accountId).Select(p => p.ProjectId).ToListAsync(ct);
        if (projects.Count > 0)
        {
            db.LimitToProjects(projects);
        }
    }

    /// <summary>The account a signed-in person acts as (a token or the console's cookie); null for agents and anonymous callers.</summary>
    public static Guid? AccountOf(ClaimsPrincipal user) =>
        // An agent is never an account: its claims are not searched on every poll.
        user.Identity is { IsAuthenticated: true, AuthenticationType: not AgentProtocol.AuthorizationScheme } && Roles.Of(user) is not null && Guid.TryParse(user.FindFirstValue(ClaimTypes.NameIdentifier), out var id)
            ? id
            : null;

    /// <summary>Runs after authorization: the request's store sees only the caller's projects.</summary>
    public static IApplicationBuilder UseProjectLimits(this IApplicationBuilder app) =>
        // Without an account (agents, anonymous callers) straight on: no state machine for every long poll.
        app.Use(static (context, next) => AccountOf(context.User) is { } account ? LimitThenAsync(context, next, account) : next(context));

    private static async Task LimitThenAsync(HttpContext context, RequestDelegate next, Guid account)
    {
        await ApplyAsync(context.RequestServices.GetRequiredService<RehomeDbContext>(), account, context.RequestAborted);
        await next(context);
    }

    /// <summary>Whether the unit of work acts for an account limited to some projects (it may not create projects).</summary>
    public static bool IsLimited(RehomeDbContext db) => db.VisibleProjects is not null;
}
