namespace Rehome.Server.Hosting;

/// <summary>
/// Headers every answer carries, the API's and the console's alike: no content sniffing, no referrer (URLs carry
/// project and mapping ids), a Content-Security-Policy that allows only the server's own scripts, style sheets and
/// connections (the console has no inline script or style element, and Blazor's websocket is same-origin), and HSTS
/// over HTTPS, so that a browser that once reached the console over HTTPS never again tries it in clear.
/// Style attributes alone are allowed (<c>style-src-attr</c>): the mappings grid's virtualization sizes its spacer
/// rows with them; they run no script, and what they could load is held by <c>img-src</c> and <c>font-src</c>.
/// </summary>
public static class SecurityHeaders
{
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; " +
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>How a policy stricter than <see cref="ContentSecurityPolicy"/> starts: nothing is allowed unless named.</summary>
    public const string DenyAll = "default-src 'none';";

    /// <summary>One year; without includeSubDomains, since other services may share the parent domain.</summary>
    public const string StrictTransportSecurity = "max-age=31536000";

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            // Set when the answer starts, so that error pages and answers of later middleware carry them too. The
            // context is the callback's state: no closure made on every request (each agent's poll is one).
            context.Response.OnStarting(static state =>
            {
                var http = (HttpContext)state;
                Apply(http.Response.Headers, http.Request.IsHttps);
                return Task.CompletedTask;
            }, context);
            return next(context);
        });

    public static void Apply(IHeaderDictionary headers, bool overHttps)
    {
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        // An answer that set a policy denying everything by default (a printable report: no script at all) keeps
        // it; any other (Blazor's own frame-ancestors) gives way to ours.
        if (!headers.ContentSecurityPolicy.ToString().StartsWith(DenyAll, StringComparison.Ordinal))
        {
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
        }
        if (overHttps)
        {
            headers.StrictTransportSecurity = StrictTransportSecurity;
        }
    }
}
