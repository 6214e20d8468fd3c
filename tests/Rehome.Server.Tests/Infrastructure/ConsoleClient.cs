using System.Net;
using System.Text.RegularExpressions;

namespace Rehome.Server.Tests.Infrastructure;

/// <summary>
/// The console as a browser without JavaScript sees it: its sign-in and sign-out forms posted with their
/// antiforgery tokens, and its cookies kept, so that a test can copy the console cookie and replay it later.
/// </summary>
public sealed partial class ConsoleClient : IDisposable
{
    private readonly CookieContainer cookies = new();
    private readonly HttpClient client;
    private readonly Uri server;

    public ConsoleClient(Uri server)
    {
        this.server = server;
        client = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = server };
    }

    public HttpClient Http => client;

    public CookieContainer Cookies => cookies;

    /// <summary>Signs in through the sign-in form, as the first administrator.</summary>
    public static async Task<ConsoleClient> SignInAsync(ServerHost host)
    {
        var console = new ConsoleClient(host.BaseAddress);
        if (!await console.SignInAsync("admin", ServerHost.AdminPassword))
        {
            throw new InvalidOperationException("The console sign-in sent the administrator back to the sign-in page.");
        }
        return console;
    }

    /// <summary>Posts a form as the browser would from <paramref name="page"/>: with that page's antiforgery token.</summary>
    public async Task<HttpResponseMessage> PostFormAsync(string page, string action, Dictionary<string, string> fields)
    {
        fields["__RequestVerificationToken"] = await AntiforgeryTokenAsync(page);
        return await client.PostAsync(new Uri(action, UriKind.Relative), new FormUrlEncodedContent(fields));
    }

    /// <summary>The Cookie header this browser sends (the console cookie and the antiforgery cookie): what a thief would copy.</summary>
    public string CookieHeader => cookies.GetCookieHeader(server);

    /// <summary>Posts the sign-in form; true when it led on to the console, false when back to the sign-in page.</summary>
    public async Task<bool> SignInAsync(string userName, string password)
    {
        var token = await AntiforgeryTokenAsync("/sign-in");
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["userName"] = userName,
            ["password"] = password,
            ["returnUrl"] = "/",
            ["__RequestVerificationToken"] = token,
        });
        var response = await client.PostAsync(new Uri("/account/sign-in", UriKind.Relative), form);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return !response.Headers.Location!.OriginalString.StartsWith("/sign-in", StringComparison.Ordinal);
    }

    /// <summary>Posts the sign-out form of the dashboard, as its button does.</summary>
    public async Task SignOutAsync()
    {
        var token = await AntiforgeryTokenAsync("/");
        using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token });
        var response = await client.PostAsync(new Uri("/account/sign-out", UriKind.Relative), form);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
    }

    /// <summary>Whether the dashboard opens with this browser's cookies (else the console sends it to the sign-in page).</summary>
    public async Task<bool> OpensConsoleAsync() => await OpensConsoleAsync(server, CookieHeader);

    /// <summary>Whether the dashboard opens for a request carrying exactly <paramref name="cookieHeader"/>: a replayed cookie.</summary>
    public static async Task<bool> OpensConsoleAsync(Uri server, string cookieHeader)
    {
        using var replay = new HttpClient(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = server };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Add("Cookie", cookieHeader);
        var response = await replay.SendAsync(request);
        return response.StatusCode switch
        {
            HttpStatusCode.OK => true,
            HttpStatusCode.Redirect => false,
            _ => throw new InvalidOperationException($"The dashboard answered {(int)response.StatusCode}."),
        };
    }

    /// <summary>The antiforgery token of the form that <paramref name="page"/> renders.</summary>
    public async Task<string> AntiforgeryTokenAsync(string page)
    {
        var html = await client.GetStringAsync(new Uri(page, UriKind.Relative));
        var match = AntiforgeryInput().Match(html);
        Assert.True(match.Success, $"{page} has no antiforgery token");
        return WebUtility.HtmlDecode(match.Groups[1].Value);
    }

    [GeneratedRegex("<input[^>]*name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryInput();

    public void Dispose() => client.Dispose();
}
