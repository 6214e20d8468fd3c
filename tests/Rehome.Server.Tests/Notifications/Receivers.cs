using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MimeKit;

namespace Rehome.Server.Tests.Notifications;

/// <summary>
/// A webhook receiver on a loopback port (Kestrel): checks each request's signature itself (not with the server's
/// code), keeps what it received, and answers the statuses it was told to, in order (then 200).
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    public sealed record Received(string? DeliveryId, string Body, bool SignatureValid, long SignedAt, int Answered);

    private readonly WebApplication app;
    private readonly ConcurrentQueue<int> answers;

    private WebhookReceiver(WebApplication app, ConcurrentQueue<int> answers, string url)
    {
        this.app = app;
        this.answers = answers;
        Url = url;
    }

    public ConcurrentQueue<Received> Requests { get; } = new();

    public string Url { get; }

    public static async Task<WebhookReceiver> StartAsync(string secret, params int[] answers)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var queue = new ConcurrentQueue<int>(answers);
        WebhookReceiver? receiver = null;
        app.MapPost("/hook", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var (valid, t) = Check(context.Request.Headers["Rehome-Signature"].ToString(), secret, body);
            var status = queue.TryDequeue(out var next) ? next : 200;
            receiver!.Requests.Enqueue(new Received(context.Request.Headers["Rehome-Delivery"].ToString(), body, valid, t, status));
            return Results.StatusCode(status);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver = new WebhookReceiver(app, queue, address + "/hook");
        return receiver;
    }

    /// <summary>The receiver's check, as the README tells receivers to do it: HMAC-SHA256 of "t.body", hex.</summary>
    private static (bool Valid, long T) Check(string header, string secret, string body)
    {
        var parts = header.Split(',').Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        if (!parts.TryGetValue("t", out var t) || !parts.TryGetValue("v1", out var v1))
        {
            return (false, 0);
        }
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{t}.{body}")));
        return (expected == v1, long.Parse(t, CultureInfo.InvariantCulture));
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}

/// <summary>
/// A real SMTP server: Debian's python3-aiosmtpd as a child process on a free loopback port, writing each message
/// it accepts (envelope recipients and the raw message) to a file of its own before it answers 250.
/// </summary>
public sealed class SmtpReceiver : IAsyncDisposable
{
    private const string Script = """
        import json, os, sys, uuid
        from aiosmtpd.controller import Controller

        folder, port = sys.argv[1], int(sys.argv[2])

        class Keep:
            async def handle_DATA(self, server, session, envelope):
                path = os.path.join(folder, uuid.uuid4().hex)
                with open(path + '.tmp', 'w') as f:
                    json.dump({'from': envelope.mail_from, 'to': envelope.rcpt_tos,
                               'data': envelope.original_content.decode('utf-8', 'replace')}, f)
                os.rename(path + '.tmp', path + '.json')
                return '250 Message accepted'

        controller = Controller(Keep(), hostname='127.0.0.1', port=port)
        controller.start()
        print('ready', flush=True)
        sys.stdin.read()
        controller.stop()
        """;

    private readonly Process process;

    private SmtpReceiver(Process process, string folder, int port)
    {
        this.process = process;
        Folder = folder;
        Port = port;
    }

    public string Folder { get; }

    public int Port { get; }

    public sealed record Mail(string From, IReadOnlyList<string> To, MimeMessage Message);

    public static async Task<SmtpReceiver> StartAsync()
    {
        var python = "/usr/bin/python3";
        if (!File.Exists(python))
        {
            throw new InvalidOperationException("Debian's python3 is missing: scripts/setup/60-smtp.sh installs python3-aiosmtpd.");
        }
        var folder = Path.Combine(Path.GetTempPath(), "rehome-tests", "smtp-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(folder);
        var port = FreePort();
        var start = new ProcessStartInfo(python) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "-c", Script, folder, port.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(argument);
        }
        var process = Process.Start(start)!;
        var ready = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
        if (ready != "ready")
        {
            throw new InvalidOperationException("aiosmtpd did not start (is python3-aiosmtpd installed? scripts/setup/60-smtp.sh): " + await process.StandardError.ReadToEndAsync());
        }
        return new SmtpReceiver(process, folder, port);
    }

    /// <summary>Every message received so far (they are written before the server answers 250).</summary>
    public IReadOnlyList<Mail> Messages() => [.. System.IO.Directory.GetFiles(Folder, "*.json").Select(path =>
    {
        using var json = JsonDocument.Parse(File.ReadAllText(path));
        var root = json.RootElement;
        using var raw = new MemoryStream(Encoding.UTF8.GetBytes(root.GetProperty("data").GetString()!));
        return new Mail(root.GetProperty("from").GetString()!, [.. root.GetProperty("to").EnumerateArray().Select(t => t.GetString()!)], MimeMessage.Load(raw));
    })];

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        process.StandardInput.Close();
        if (!process.WaitForExit(TimeSpan.FromSeconds(10)))
        {
            process.Kill();
        }
        await process.WaitForExitAsync();
        process.Dispose();
        System.IO.Directory.Delete(Folder, recursive: true);
    }
}
