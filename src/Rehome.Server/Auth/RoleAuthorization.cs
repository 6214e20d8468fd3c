using Microsoft.AspNetCore.Authorization;

namespace Rehome.Server.Auth;

/// <summary>
/// The least role an endpoint needs, as endpoint metadata (read by the OpenAPI document and the authorization
/// matrix test). <see cref="Least"/> is null for what any signed-in account may do whatever its role (its own
/// tokens and password): no role covers both a viewer and an auditor.
/// </summary>
public sealed record RequiredRole(Role? Least)
{
    /// <summary>The role as the OpenAPI document and the README name it.</summary>
    public string Name => Least?.ToString() ?? "AnySignedIn";
}

/// <summary>
/// One authorization policy per role, each admitting the roles that cover it (<see cref="Roles.Covers"/>): an
/// endpoint says the least role it needs with <see cref="RequireRole{TBuilder}"/>. The same policies exist for
/// the console's cookie (<see cref="ConsolePolicyFor"/>), so a page and the API call behind it ask the same.
/// </summary>
public static class RoleAuthorization
{
    private const string AnySignedIn = "any";

    public static string PolicyFor(Role least) => "role:" + least;

    public static string ConsolePolicyFor(Role least) => ConsolePolicies.Prefix + least;

    /// <summary>Requires a bearer token whose effective role covers <paramref name="least"/>.</summary>
    public static TBuilder RequireRole<TBuilder>(this TBuilder builder, Role least)
        where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(PolicyFor(least)).WithMetadata(new RequiredRole(least));

    /// <summary>Requires a bearer token of any role: what every account may do for itself.</summary>
    public static TBuilder RequireSignedIn<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization("role:" + AnySignedIn).WithMetadata(new RequiredRole(null));

    public static AuthorizationBuilder AddRolePolicies(this AuthorizationBuilder builder, string scheme) =>
        builder.AddRolePolicies(scheme, PolicyFor, "role:" + AnySignedIn);

    public static AuthorizationBuilder AddConsoleRolePolicies(this AuthorizationBuilder builder, string scheme) =>
        builder.AddRolePolicies(scheme, ConsolePolicyFor, ConsolePolicies.AnySignedIn);

    /// <summary>
    /// Refuses every request: the fallback for an endpoint that declares neither a role nor anonymous access, so
    /// a forgotten declaration shows as a refusal (401 without a token, 403 with one), never as an open door.
    /// Routing's own answers (405 method not allowed, 415 unsupported media type) are endpoints without a route
    /// that do nothing else: a signed-in caller gets them as they are.
    /// </summary>
    public static AuthorizationPolicy DenyUndeclared(string scheme) =>
        new AuthorizationPolicyBuilder(scheme).RequireAuthenticatedUser()
            .RequireAssertion(context => context.Resource is HttpContext http && http.GetEndpoint() is { } endpoint && endpoint is not RouteEndpoint)
            .Build();

    private static AuthorizationBuilder AddRolePolicies(this AuthorizationBuilder builder, string scheme, Func<Role, string> name, string anyName)
    {
        foreach (var role in Enum.GetValues<Role>())
        {
            builder.AddPolicy(name(role), new AuthorizationPolicyBuilder(scheme)
                .RequireAuthenticatedUser()
                .RequireAssertion(context => Roles.Of(context.User) is { } held && Roles.Covers(held, role))
                .Build());
        }
        return builder.AddPolicy(anyName, new AuthorizationPolicyBuilder(scheme)
            .RequireAuthenticatedUser()
            .RequireAssertion(context => Roles.Of(context.User) is not null)
            .Build());
    }
}

/// <summary>The console's role policies by name, for <c>[Authorize(Policy = ...)]</c> on its pages (the cookie's role claim).</summary>
public static class ConsolePolicies
{
    internal const string Prefix = "console-role:";

    public const string Administrator = Prefix + nameof(Role.Administrator);
    public const string Operator = Prefix + nameof(Role.Operator);
    public const string Viewer = Prefix + nameof(Role.Viewer);
    public const string Auditor = Prefix + nameof(Role.Auditor);

    /// <summary>Any signed-in account, whatever its role (its own tokens).</summary>
    public const string AnySignedIn = Prefix + "any";
}
