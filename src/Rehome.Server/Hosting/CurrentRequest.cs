namespace Rehome.Server.Hosting;

/// <summary>
/// The HTTP request the code runs for, if any (the audit trail names its signed-in caller). ASP.NET Core's
/// <c>IHttpContextAccessor</c> would do, but registering it stops Kestrel from reusing a connection's
/// <see cref="HttpContext"/> from one request to the next: every request, each long poll among them, would allocate a
/// new one (about 0.5 KB). Set by <see cref="UseCurrentRequest"/> for every request except the agent gateway's calls
/// with an agent's credential, whose caller is never a person: what they record is by <c>system</c>, as before.
/// </summary>
public sealed class CurrentRequest
{
    private static readonly AsyncLocal<Holder> Current = new();

    /// <summary>The request, while it runs; null outside one (and once it has ended, for work it left behind).</summary>
    public HttpContext? Http => Current.Value?.Http;

    /// <summary>Makes the request current for the rest of the pipeline (first in it, so that everything after sees it).</summary>
    public static IApplicationBuilder UseCurrentRequest(IApplicationBuilder app) =>
        app.Use(static (context, next) => RehomeServer.IsAgentGatewayCall(context.Request) ? next(context) : RunAsync(context, next));

    // Async, so that the value set here is undone when the request's pipeline returns.
    private static async Task RunAsync(HttpContext context, RequestDelegate next)
    {
        var holder = new Holder { Http = context };
        Current.Value = holder;
        try
        {
            await next(context);
        }
        finally
        {
            // Work the request left running must not see a context that the connection's next request reuses.
            holder.Http = null;
        }
    }

    private sealed class Holder
    {
        public HttpContext? Http;
    }
}
