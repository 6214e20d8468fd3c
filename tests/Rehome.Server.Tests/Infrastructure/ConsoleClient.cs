using System.Net;
using System.Text.RegularExpressions;

namespace Rehome.Server.Tests.Infrastructure;

/// <summary>
/// The console as a browser without script sees it: a cookie jar, redirects not followed, and the antiforgery
/// token read from the page that renders a form.
/// </summary>
public sealed partial class ConsoleClient : IDisposable
{
    private ConsoleClient(Uri server)
    {
        Cookies = new CookieContainer();
        Http = new HttpClient(new HttpClientHandler { CookieContainer = Cookies, AllowAutoRedirect = false }) { BaseAddress = server };
    }

    public HttpClient Http { get; }

    public CookieContainer Cookies { get; }

    /// <summary>Signs in through the sign-in form, as the first administrator.</summary>
    public static async Task<ConsoleClient> SignInAsync(ServerHost host)
    {
        var client = new ConsoleClient(host.BaseAddress);
        var answer = await client.PostFormAsync("/sign-in", "/account/sign-in", new() { ["userName"] = "admin", ["password"] = ServerHost.AdminPassword });
        if (answer.StatusCode != HttpStatusCode.Redirect || answer.Headers.Location?.OriginalString != "/")
        {
            throw new InvalidOperationException($"The console sign-in answered {answer.StatusCode} {answer.Headers.Location}.");
        }
        return client;
    }

    /// <summary>The antiforgery token of the form that <paramref name="page"/> renders.</summary>
    public async Task<string> AntiforgeryTokenAsync(string page)
    {
        var html = await Http.GetStringAsync(new Uri(page, UriKind.Relative));
        return TokenField().Match(html) is { Success: true } match
            ? WebUtility.HtmlDecode(match.Groups[1].Value)
            : throw new InvalidOperationException($"{page} renders no antiforgery token.");
    }

    /// <summary>Posts a form as the browser would from <paramref name="page"/>: with that page's antiforgery token.</summary>
    public async Task<HttpResponseMessage> PostFormAsync(string page, string action, Dictionary<string, string> fields)
    {
        fields["__RequestVerificationToken"] = await AntiforgeryTokenAsync(page);
        return await Http.PostAsync(new Uri(action, UriKind.Relative), new FormUrlEncodedContent(fields));
    }

    public void Dispose() => Http.Dispose();

    [GeneratedRegex("name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"")]
    private static partial Regex TokenField();
}
