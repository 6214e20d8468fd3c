using Microsoft.AspNetCore.Authorization;

namespace Rehome.Server.Auth;

/// <summary>The least role an endpoint needs, as endpoint metadata (read by the OpenAPI document and the authorization matrix test).</summary>
public sealed record RequiredRole(Role Least);

/// <summary>
/// One authorization policy per role, each admitting the roles that cover it (<see cref="Roles.Covers"/>): an
/// endpoint says the least role it needs with <see cref="RequireRole{TBuilder}"/>.
/// </summary>
public static class RoleAuthorization
{
    public static string PolicyFor(Role least) => "role:" + least;

    /// <summary>Requires a bearer token whose effective role covers <paramref name="least"/>.</summary>
    public static TBuilder RequireRole<TBuilder>(this TBuilder builder, Role least)
        where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(PolicyFor(least)).WithMetadata(new RequiredRole(least));

    public static AuthorizationBuilder AddRolePolicies(this AuthorizationBuilder builder, string scheme)
    {
        foreach (var role in Enum.GetValues<Role>())
        {
            builder.AddPolicy(PolicyFor(role), new AuthorizationPolicyBuilder(scheme)
                .RequireAuthenticatedUser()
                .RequireAssertion(context => Roles.Of(context.User) is { } held && Roles.Covers(held, role))
                .Build());
        }
        return builder;
    }
}
