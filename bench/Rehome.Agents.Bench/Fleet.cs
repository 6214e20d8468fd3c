using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography;
using Rehome.Cli.Rehearsal;
using Rehome.Protocol;

namespace Rehome.Agents.Bench;

/// <summary>The light agents' side of every mode: HTTP clients, enrollment, polls, and the arithmetic of the figures.</summary>
public static class Fleet
{
    /// <summary>
    /// A client with as many connections as it is asked for, its sockets bound to <paramref name="source"/> when
    /// given (each loopback address has its own ~28,000 ephemeral ports), speaking HTTP/2 only when asked (then many
    /// polls share one connection, 100 streams each, as Kestrel allows by default).
    /// </summary>
    public static HttpClient Client(Uri address, IPAddress? source = null, bool http2 = false)
    {
        var handler = new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue, EnableMultipleHttp2Connections = true };
        if (source is not null)
        {
            handler.ConnectCallback = async (context, ct) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(source, 0));
                    await socket.ConnectAsync(context.DnsEndPoint, ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }
        return new HttpClient(handler, disposeHandler: true)
        {
            BaseAddress = address,
            Timeout = TimeSpan.FromMinutes(2),
            DefaultRequestVersion = http2 ? HttpVersion.Version20 : HttpVersion.Version11,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
    }

    /// <summary>
    /// Enrolls devices <paramref name="first"/> + 1 … <paramref name="first"/> + <paramref name="count"/> over HTTP
    /// and returns their credentials.
    /// </summary>
    public static Task<string[]> EnrollAsync(HttpClient http, string configurationKey, int first, int count, int parallel = 16, bool quiet = false) =>
        EnrollAsync(http, configurationKey, [.. Enumerable.Range(first, count)], parallel, quiet);

    /// <summary>
    /// Enrolls the devices of these zero-based indexes (device i + 1 of the scenario) over HTTP, each proving a key
    /// of its own as agents do, and returns their credentials in the same order.
    /// </summary>
    public static async Task<string[]> EnrollAsync(HttpClient http, string configurationKey, int[] devices, int parallel = 16, bool quiet = false)
    {
        var clock = Stopwatch.StartNew();
        var credentials = new string[devices.Length];
        await Parallel.ForAsync(0, devices.Length, new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (i, ct) =>
        {
            var device = devices[i] + 1;
            using var deviceKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var facts = new DeviceFacts { DeviceName = RehearsalScenario.DeviceName(device), OsVersion = "bench", AgentVersion = "bench" };
            using var response = await http.PostAsJsonAsync("/agent/v1/enroll",
                EnrollRequest.Signed(configurationKey, facts, deviceKey, $"BENCH-{device}", DateTimeOffset.UtcNow), AgentProtocol.JsonOptions, ct);
            response.EnsureSuccessStatusCode();
            credentials[i] = (await response.Content.ReadFromJsonAsync<EnrollResponse>(AgentProtocol.JsonOptions, ct))!.Credential
                ?? throw new InvalidOperationException($"The enrollment of {facts.DeviceName} was held for approval.");
        });
        if (!quiet)
        {
            Console.WriteLine($"{devices.Length:N0} agents enrolled in {clock.Elapsed.TotalSeconds:F1} s ({devices.Length / clock.Elapsed.TotalSeconds:F0}/s)");
        }
        return credentials;
    }

    /// <summary>An agent's poll, held up to <paramref name="wait"/> seconds when the agent has no job.</summary>
    public static HttpRequestMessage Poll(HttpClient http, string credential, int wait)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/agent/v1/poll?wait={wait}")
        {
            Version = http.DefaultRequestVersion,
            VersionPolicy = http.DefaultVersionPolicy,
        };
        request.Headers.Authorization = new AuthenticationHeaderValue(AgentProtocol.AuthorizationScheme, credential);
        return request;
    }

    public static double Percentile(double[] sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];

    /// <summary>"p50 … ms, p99 … ms, max … ms" of latencies in milliseconds.</summary>
    public static string Spread(IEnumerable<double> milliseconds)
    {
        var sorted = milliseconds.Order().ToArray();
        return sorted.Length == 0 ? "no samples"
            : string.Create(CultureInfo.InvariantCulture, $"p50 {Percentile(sorted, 50):F0} ms, p99 {Percentile(sorted, 99):F0} ms, max {sorted[^1]:F0} ms");
    }

    public static async Task WaitAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > (timeout ?? TimeSpan.FromMinutes(10)))
            {
                throw new TimeoutException("Timed out waiting for " + what);
            }
            await Task.Delay(100);
        }
    }
}
