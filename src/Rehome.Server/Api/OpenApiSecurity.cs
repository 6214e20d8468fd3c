using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Rehome.Server.Auth;
using Rehome.Server.Gateway;

namespace Rehome.Server.Api;

/// <summary>
/// Declares the document's security schemes (personal API tokens; agents' credentials for the gateway) and, on
/// each operation, the scheme it needs and its least role as <c>x-rehome-role</c> (<c>Anonymous</c> for sign-in
/// and enrollment, <c>Agent</c> for the gateway): what the authorization matrix test reads.
/// </summary>
public static class OpenApiSecurity
{
    public const string RoleExtension = "x-rehome-role";
    public const string TokenScheme = "personalApiToken";
    public const string AgentScheme = "agentCredential";
    public const string Anonymous = "Anonymous";
    public const string Agent = "Agent";

    public static OpenApiOptions AddRoleSecurity(this OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[TokenScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "rht_…",
                Description = "A personal API token (POST /api/v1/auth/token or /api/v1/tokens). It carries its account's role, or the narrower scope it was made with, and the account's project limits.",
            };
            document.Components.SecuritySchemes[AgentScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = "Authorization",
                Description = "An agent's own credential, 'Authorization: Agent rha_…', received at enrollment: it opens the agent gateway only.",
            };
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            var metadata = context.Description.ActionDescriptor.EndpointMetadata;
            var (role, scheme) = Declared(metadata);
            if (role is null)
            {
                // Undeclared: the fallback refuses it, and the matrix test names it.
                return Task.CompletedTask;
            }
            operation.Extensions ??= new Dictionary<string, IOpenApiExtension>();
            operation.Extensions[RoleExtension] = new JsonNodeExtension(JsonValue.Create(role));
            if (scheme is not null)
            {
                operation.Security ??= [];
                operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(scheme, context.Document)] = [] });
            }
            return Task.CompletedTask;
        });
        return options;
    }

    /// <summary>The role an endpoint declares and the scheme it needs (null for an open one); no role when it declares nothing.</summary>
    public static (string? Role, string? Scheme) Declared(IEnumerable<object> metadata)
    {
        var list = metadata.ToList();
        // Authorization lets an open endpoint through even in a protected group (enrollment in the gateway's).
        if (list.OfType<IAllowAnonymous>().Any())
        {
            return (Anonymous, null);
        }
        if (list.OfType<RequiredRole>().LastOrDefault() is { } required)
        {
            return (required.Name, TokenScheme);
        }
        if (list.OfType<IAuthorizeData>().Any(a => a.Policy == AgentAuthenticationHandler.PolicyName))
        {
            return (Agent, AgentScheme);
        }
        return (null, null);
    }
}
