using System.CommandLine;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Rehome.Cli.Client;
using Rehome.Server.Auth;
using Rehome.Server.Hosting;
using Rehome.Server.Store;
using Spectre.Console;

namespace Rehome.Cli.Commands;

/// <summary>
/// <c>rehome demo</c>: starts the server on the embedded store, builds a demo project of N mappings through the
/// REST API, and starts a run of every job on all of them, as an administrator would with Migration → OK.
/// Jobs then wait in the store for agents (devices arrive with the agent).
/// </summary>
public static class DemoCommand
{
    public const string ProjectName = "Demo";

    public static Command Create(CliContext context)
    {
        var devices = new Option<int>("--devices") { Description = "How many demo mappings to create.", DefaultValueFactory = _ => 1000 };
        var urls = new Option<string>("--urls") { Description = "Where the server listens.", DefaultValueFactory = _ => "http://127.0.0.1:5080" };
        var data = new Option<string>("--data") { Description = "The data folder (SQLite file and keys).", DefaultValueFactory = _ => "data" };
        var exit = new Option<bool>("--exit") { Description = "Stop the server when the run has started, instead of serving until Ctrl+C." };
        var command = new Command("demo", "Start Rehome on the embedded store with a demo project and run every job on its mappings.")
        {
            devices, urls, data, exit,
        };
        command.SetAction(async (parse, ct) =>
        {
            var count = parse.GetValue(devices);
            if (count is < 1 or > 100_000)
            {
                throw new CliException("--devices takes 1 to 100,000.");
            }
            var builder = RehomeServer.CreateBuilder(
                [
                    $"--urls={parse.GetValue(urls)}", $"--Rehome:Store:DataDirectory={parse.GetValue(data)}", "--Rehome:Store:Provider=Sqlite",
                    // The demo's connections name no real domain: its rejoins wait for their destination.
                    "--Rehome:Directories:Mode=None",
                ]);
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            await using var app = await RehomeServer.BuildAsync(builder, ct);
            await app.StartAsync(ct);
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            var token = await IssueLocalTokenAsync(app, ct);
            using var client = new RehomeApiClient(new Uri(address), token);

            var exitCode = await RunDemoAsync(context, client, count, ct);
            if (context.Json)
            {
                context.WriteJson(await SummaryAsync(client, address, ct));
            }
            context.Console.MarkupLineInterpolated($"\nRehome serves [bold]{address}[/]: the web console, and the REST API under /api/v1 (OpenAPI at /openapi/v1.json).");
            context.Console.MarkupLine("Use the CLI against it: [bold]rehome login --server " + Markup.Escape(address) + "[/] with the administrator's password.");
            if (!parse.GetValue(exit))
            {
                context.Console.MarkupLine("Press Ctrl+C to stop the server.");
                try
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                catch (OperationCanceledException)
                {
                    // Ctrl+C: stop the server below.
                }
            }
            await app.StopAsync(CancellationToken.None);
            return exitCode;
        });
        return command;
    }

    /// <summary>The demo runs the server in its own process, so it may mint a short-lived token for its own session.</summary>
    public static async Task<string> IssueLocalTokenAsync(WebApplication app, CancellationToken ct)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
        var admin = await db.Accounts.OrderBy(a => a.CreatedAt).FirstAsync(ct);
        var now = DateTimeOffset.UtcNow;
        var (entity, token) = ApiTokens.Issue(admin.Id, "rehome demo session", now, now.AddDays(1));
        db.ApiTokens.Add(entity);
        await db.SaveChangesAsync(ct);
        return token;
    }

    /// <summary>What --output json prints: where the server is, the demo project, and its latest run's status.</summary>
    private static async Task<JsonObject> SummaryAsync(RehomeApiClient client, string address, CancellationToken ct)
    {
        var project = (await client.GetAsync("/api/v1/projects", ct)).AsArray().FirstOrDefault(p => (string?)p!["name"] == ProjectName);
        var runs = project is null ? null : await client.GetAsync($"/api/v1/projects/{project["id"]}/runs?pageSize=1", ct);
        var latest = runs?["items"]?.AsArray().FirstOrDefault();
        return new JsonObject
        {
            ["server"] = address,
            ["project"] = project?.DeepClone(),
            ["run"] = latest is null ? null : await client.GetAsync($"/api/v1/runs/{latest["id"]}", ct),
        };
    }

    public static async Task<int> RunDemoAsync(CliContext context, RehomeApiClient client, int count, CancellationToken ct)
    {
        var projectId = await EnsureProjectAsync(context, client, count, ct);

        // A second demo on the same data folder stops the previous demo runs first, so the rules accept the new one.
        var runs = await client.GetAsync($"/api/v1/projects/{projectId}/runs?pageSize=1000", ct);
        foreach (var run in runs["items"]!.AsArray())
        {
            await client.PostAsync($"/api/v1/runs/{run!["id"]}/stop", new { }, ct);
        }

        var clock = Stopwatch.StartNew();
        JsonNode answer;
        try
        {
            answer = await client.PostAsync($"/api/v1/projects/{projectId}/runs", new
            {
                kinds = new[] { "RejoinDomain", "MigratePermissions", "MigrateUserProfile", "MigrateEntraIdGroups", "RegisterAutopilot" },
                filter = new { },
            }, ct);
        }
        catch (ApiException e)
        {
            context.Console.MarkupLineInterpolated($"[red]The run did not start:[/] {e.Message}");
            ResourceCommands.PrintProblemRows(context, e.Problem);
            return 1;
        }
        clock.Stop();
        var refusals = JsonSerializer.Deserialize<List<JsonElement>>(answer["refusals"]!.ToJsonString()) ?? [];
        context.Console.MarkupLineInterpolated(
            $"\nMigration → OK on [bold]{answer["mappingCount"]}[/] mappings: [bold]{answer["jobCount"]}[/] jobs written in {clock.ElapsedMilliseconds} ms; {refusals.Count} refused, with their reasons:");
        RunCommands.PrintRefusals(context.Console, refusals);
        var runId = Guid.Parse((string)answer["run"]!["id"]!);
        RunCommands.PrintStatusTable(context, await client.GetAsync($"/api/v1/runs/{runId}", ct));
        context.Console.MarkupLine(
            "Rejoin jobs wait for the destination (the server prepares the offline join), the others for their rejoin; agents pick them up once devices enroll.");
        return 0;
    }

    private static async Task<Guid> EnsureProjectAsync(CliContext context, RehomeApiClient client, int count, CancellationToken ct)
    {
        var existing = (await client.GetAsync("/api/v1/projects", ct)).AsArray()
            .FirstOrDefault(p => (string?)p!["name"] == ProjectName);
        if (existing is not null)
        {
            context.Console.MarkupLineInterpolated($"Using the existing demo project ({existing["mappingCount"]} mappings).");
            return Guid.Parse((string)existing["id"]!);
        }
        var source = await client.PostAsync("/api/v1/connections", new
        {
            name = "Contoso (demo source)",
            role = "Source",
            kind = "HybridIdentity",
            source = new { entraId = new { tenantId = Guid.NewGuid(), clientId = Guid.NewGuid(), clientSecret = "demo-only-not-a-real-secret", enabled = true } },
        }, ct);
        var destination = await client.PostAsync("/api/v1/connections", new
        {
            name = "Fabrikam (demo destination)",
            role = "Destination",
            kind = "ActiveDirectory",
            destination = new { domainDnsName = "fabrikam.example", targetOu = "OU=Migrated,DC=fabrikam,DC=example", rejoinMethod = "Offline" },
        }, ct);
        var policy = await client.PostAsync("/api/v1/policies", new { name = "Demo policy" }, ct);
        var project = await client.PostAsync("/api/v1/projects", new
        {
            name = ProjectName,
            tags = new[] { "demo" },
            sourceConnectionId = source["connection"]!["id"]!.GetValue<Guid>(),
            destinationConnectionId = destination["connection"]!["id"]!.GetValue<Guid>(),
            policyId = policy["id"]!.GetValue<Guid>(),
        }, ct);
        var projectId = project["id"]!.GetValue<Guid>();
        var csv = new StringBuilder("SourceDevice,DestinationName,DestinationOU,PrimaryUser,DestinationUser\n");
        for (var i = 1; i <= count; i++)
        {
            var ou = i % 2 == 0 ? "\"OU=Laptops,OU=Migrated,DC=fabrikam,DC=example\"" : "";
            csv.Append(System.Globalization.CultureInfo.InvariantCulture, $"CTS-PC{i:D5},FAB-PC{i:D5},{ou},CONTOSO\\user{i:D5},user{i:D5}@fabrikam.example\n");
        }
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(csv.ToString()));
        var imported = await client.PostCsvAsync($"/api/v1/projects/{projectId}/mappings/import", stream, ct);
        context.Console.MarkupLineInterpolated($"Created the demo project: source, destination, policy and {imported["created"]} mappings (CSV import).");
        return projectId;
    }
}
