using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Rehome.Cli.Client;

/// <summary>The server answered with a problem+json (or another error); the message is the server's own words.</summary>
public sealed class ApiException(int status, string message, JsonElement? problem) : Exception(message)
{
    public int Status { get; } = status;

    public JsonElement? Problem { get; } = problem;
}

/// <summary>A thin client of the REST API; answers are read as JSON trees so the CLI needs no copy of the server's types.</summary>
public sealed class RehomeApiClient : IDisposable
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private readonly HttpClient _http;

    public RehomeApiClient(Uri server, string? token, HttpMessageHandler? handler = null)
    {
        _http = handler is null ? new HttpClient() : new HttpClient(handler);
        _http.BaseAddress = server;
        _http.Timeout = TimeSpan.FromMinutes(5);
        if (token is not null)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    public Uri Server => _http.BaseAddress!;

    public Task<JsonNode> GetAsync(string path, CancellationToken ct) => SendAsync(HttpMethod.Get, path, null, ct);

    public Task<JsonNode> PostAsync(string path, object body, CancellationToken ct) =>
        SendAsync(HttpMethod.Post, path, JsonContent.Create(body, options: Json), ct);

    public Task<JsonNode> PutAsync(string path, object body, CancellationToken ct) =>
        SendAsync(HttpMethod.Put, path, JsonContent.Create(body, options: Json), ct);

    public Task<JsonNode> DeleteAsync(string path, CancellationToken ct) => SendAsync(HttpMethod.Delete, path, null, ct);

    /// <summary>Sends a CSV file; Expect: 100-continue lets the server refuse a file that is too large before it is sent.</summary>
    public Task<JsonNode> PostCsvAsync(string path, Stream csv, CancellationToken ct) =>
        SendFileAsync(HttpMethod.Post, path, csv, new MediaTypeHeaderValue("text/csv") { CharSet = "utf-8" }, ct);

    /// <summary>Puts a binary file (a provisioning package) as the request's raw body.</summary>
    public Task<JsonNode> PutFileAsync(string path, Stream file, CancellationToken ct) =>
        SendFileAsync(HttpMethod.Put, path, file, new MediaTypeHeaderValue("application/octet-stream"), ct);

    /// <summary>Posts a binary file (an agent package) as the request's raw body.</summary>
    public Task<JsonNode> PostFileAsync(string path, Stream file, string mediaType, CancellationToken ct) =>
        SendFileAsync(HttpMethod.Post, path, file, new MediaTypeHeaderValue(mediaType), ct);

    /// <summary>Expect: 100-continue lets the server refuse a file that is too large before it is sent.</summary>
    private async Task<JsonNode> SendFileAsync(HttpMethod method, string path, Stream file, MediaTypeHeaderValue type, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path) { Content = new StreamContent(file) };
        request.Content.Headers.ContentType = type;
        if (file.CanSeek)
        {
            request.Content.Headers.ContentLength = file.Length - file.Position;
        }
        request.Headers.ExpectContinue = true;
        return await ReadAsync(await _http.SendAsync(request, ct), ct);
    }

    /// <summary>Hands an answer's body to <paramref name="read"/> as it arrives: a large export is never held whole.</summary>
    public async Task StreamAsync(string path, Func<Stream, Task> read, CancellationToken ct)
    {
        using var response = await _http.GetAsync(new Uri(path, UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, ct);
        if (!response.IsSuccessStatusCode)
        {
            await ReadAsync(response, ct);
        }
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        await read(body);
    }

    public async Task<string> GetTextAsync(string path, CancellationToken ct)
    {
        var response = await _http.GetAsync(new Uri(path, UriKind.Relative), ct);
        if (!response.IsSuccessStatusCode)
        {
            await ReadAsync(response, ct);
        }
        return await response.Content.ReadAsStringAsync(ct);
    }

    private async Task<JsonNode> SendAsync(HttpMethod method, string path, HttpContent? content, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        return await ReadAsync(await _http.SendAsync(request, ct), ct);
    }

    private static async Task<JsonNode> ReadAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct);
        if (response.IsSuccessStatusCode)
        {
            return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text) ?? new JsonObject();
        }
        JsonElement? problem = null;
        var message = new StringBuilder($"{(int)response.StatusCode} {response.ReasonPhrase}");
        try
        {
            var element = JsonDocument.Parse(text).RootElement.Clone();
            problem = element;
            if (element.TryGetProperty("detail", out var detail))
            {
                message.Clear().Append(detail.GetString());
            }
        }
        catch (JsonException)
        {
            if (text.Length > 0)
            {
                message.Append(": ").Append(text);
            }
        }
        throw new ApiException((int)response.StatusCode, message.ToString(), problem);
    }

    public void Dispose() => _http.Dispose();
}
