using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Rehome.Cli.Commands;

/// <summary><c>rehome agent-packages list|upload|make-current|delete</c>: signed agent packages and the version the fleet should run.</summary>
public static class AgentPackageCommands
{
    public static Command Create(CliContext context) =>
        new("agent-packages", "Signed agent packages: the version agents should run, and the fleet's versions.")
        {
            List(context), Upload(context), MakeCurrent(context), Delete(context),
        };

    private static Argument<Guid> PackageId() => new("package-id") { Description = "The package's id (see 'rehome agent-packages list')." };

    private static Command List(CliContext context)
    {
        var list = new Command("list", "List the uploaded packages (which is current, which connections run another) and the fleet's versions.");
        list.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var answer = await client.GetAsync("/api/v1/agent-packages", ct);
            context.Show(answer, () => Print(context, answer));
            return 0;
        });
        return list;
    }

    private static Command Upload(CliContext context)
    {
        var file = new Option<FileInfo>("--file") { Description = "The package: a zip of the agent's files.", Required = true };
        var version = new Option<string>("--version") { Description = "Its version, e.g. 1.4.2.", Required = true };
        var signature = new Option<string?>("--signature") { Description = "The detached signature by a configured publisher key, base64." };
        var signatureFile = new Option<FileInfo?>("--signature-file") { Description = "A file holding the signature: base64 text, or the raw DER bytes." };
        var upload = new Command("upload", "Upload a signed agent package (the server checks the signature against its publisher keys).")
        {
            file, version, signature, signatureFile,
        };
        upload.SetAction(async (parse, ct) =>
        {
            var signed = await SignatureAsync(parse.GetValue(signature), parse.GetValue(signatureFile), ct);
            using var client = context.Client(parse);
            await using var stream = parse.GetValue(file)!.OpenRead();
            var path = $"/api/v1/agent-packages?version={Uri.EscapeDataString(parse.GetValue(version)!)}&signature={Uri.EscapeDataString(signed)}";
            var answer = await client.PostFileAsync(path, stream, "application/zip", ct);
            context.Show(answer, () => context.Console.MarkupLineInterpolated(
                $"Uploaded agent package {CliContext.Text(answer["version"])} ({CliContext.Text(answer["id"])}); 'rehome agent-packages make-current' makes agents run it."));
            return 0;
        });
        return upload;
    }

    /// <summary>The base64 signature: given, or read from a file (base64 text as is; anything else taken as the raw signature).</summary>
    private static async Task<string> SignatureAsync(string? given, FileInfo? file, CancellationToken ct)
    {
        if ((given is null) == (file is null))
        {
            throw new CliException("Give the package's signature with either --signature or --signature-file.");
        }
        if (given is not null)
        {
            return given;
        }
        var bytes = await File.ReadAllBytesAsync(file!.FullName, ct);
        var text = System.Text.Encoding.ASCII.GetString(bytes).Trim();
        return IsBase64(text) ? text : Convert.ToBase64String(bytes);
    }

    private static bool IsBase64(string text)
    {
        var buffer = new byte[text.Length];
        return text.Length > 0 && Convert.TryFromBase64String(text, buffer, out _);
    }

    private static Command MakeCurrent(CliContext context)
    {
        var id = new Argument<Guid?>("package-id") { Description = "The package agents should run (see 'rehome agent-packages list').", Arity = ArgumentArity.ZeroOrOne };
        var clear = new Option<bool>("--clear") { Description = "Clear it instead: agents are not asked to update." };
        var connection = new Option<Guid?>("--connection") { Description = "Only for the agents of this source connection (its id)." };
        var makeCurrent = new Command("make-current", "Mark the version agents should run (all of them, or one source connection's); --clear removes the mark.")
        {
            id, clear, connection,
        };
        makeCurrent.SetAction(async (parse, ct) =>
        {
            var packageId = parse.GetValue(id);
            if ((packageId is null) != parse.GetValue(clear))
            {
                throw new CliException("Give either a package id or --clear.");
            }
            var connectionId = parse.GetValue(connection);
            using var client = context.Client(parse);
            var answer = await client.PutAsync("/api/v1/agent-packages/current", new { packageId, connectionId }, ct);
            var scope = connectionId is { } c ? $"connection {c}'s agents" : "agents";
            context.Show(answer, () =>
            {
                if (packageId is { } p)
                {
                    context.Console.MarkupLineInterpolated($"Package {p} is now the one {scope} run.");
                }
                else
                {
                    context.Console.MarkupLineInterpolated($"No package is marked for {scope} now.");
                }
            });
            return 0;
        });
        return makeCurrent;
    }

    private static Command Delete(CliContext context)
    {
        var id = PackageId();
        var delete = new Command("delete", "Delete an uploaded package (not the current one, nor one a connection runs).") { id };
        delete.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var answer = await client.DeleteAsync($"/api/v1/agent-packages/{parse.GetValue(id)}", ct);
            context.Show(answer, () => context.Console.MarkupLineInterpolated($"Agent package {parse.GetValue(id)} deleted."));
            return 0;
        });
        return delete;
    }

    private static void Print(CliContext context, JsonNode answer)
    {
        var table = new Table().AddColumns("Version", "Current", "Connections", "Size", "Uploaded", "By", "Publisher key", "Id");
        foreach (var p in answer["packages"]!.AsArray())
        {
            table.AddRow(Markup.Escape(CliContext.Text(p!["version"])), (bool?)p["isCurrent"] == true ? "yes" : "",
                Markup.Escape(string.Join(", ", p["connections"]!.AsArray().Select(CliContext.Text))), CliContext.Text(p["sizeBytes"]),
                CliContext.Text(p["uploadedAt"]), Markup.Escape(CliContext.Text(p["uploadedBy"])), Markup.Escape(CliContext.Text(p["publisherKey"])),
                CliContext.Text(p["id"]));
        }
        context.Console.Write(table);
        var fleet = answer["fleet"]!;
        context.Console.MarkupLineInterpolated(
            $"Fleet: current version {(fleet["currentVersion"] is null ? "none" : CliContext.Text(fleet["currentVersion"]))}; {fleet["onTarget"]} agent(s) on it, {fleet["older"]} older, {fleet["other"]} other.");
        foreach (var v in fleet["byVersion"]!.AsArray())
        {
            context.Console.MarkupLineInterpolated($"  {CliContext.Text(v!["version"])}: {v["agents"]} agent(s)");
        }
    }
}
