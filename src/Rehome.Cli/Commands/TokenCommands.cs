using System.CommandLine;
using Spectre.Console;

namespace Rehome.Cli.Commands;

/// <summary><c>rehome tokens list|create|revoke</c>: your own personal API tokens (for scripts and other machines).</summary>
public static class TokenCommands
{
    public static Command Create(CliContext context)
    {
        var list = new Command("list", "List your API tokens: name, prefix, scope, when made, last used, expiry, revoked.");
        list.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var tokens = await client.GetAsync("/api/v1/tokens", ct);
            context.Show(tokens, () =>
            {
                var table = new Table().AddColumns("Name", "Prefix", "Scope", "Created", "Last used", "Expires", "State", "Id");
                foreach (var t in tokens.AsArray())
                {
                    table.AddRow(Markup.Escape(CliContext.Text(t!["name"])), Markup.Escape(CliContext.Text(t["prefix"])), CliContext.Text(t["scope"] ?? "account's role"),
                        CliContext.Text(t["createdAt"]), CliContext.Text(t["lastUsedAt"]), t["expiresAt"] is null ? "never" : CliContext.Text(t["expiresAt"]),
                        t["revokedAt"] is null ? "active" : $"revoked {CliContext.Text(t["revokedAt"])}", CliContext.Text(t["id"]));
                }
                context.Console.Write(table);
            });
            return 0;
        });

        var name = new Argument<string>("name") { Description = "What the token is for (a script, a machine)." };
        var days = new Option<int?>("--expires-in-days") { Description = "How many days it lives (default: the server's, 90)." };
        var never = new Option<bool>("--never-expires") { Description = "A token that never expires (only where the server allows it)." };
        var scope = new Option<string?>("--scope") { Description = "A narrower role the token carries: Administrator, Operator, Viewer or Auditor (default: your account's)." };
        var create = new Command("create", "Create an API token; it is shown once, now.") { name, days, never, scope };
        create.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var created = await client.PostAsync("/api/v1/tokens", new
            {
                name = parse.GetValue(name),
                expiresInDays = parse.GetValue(days),
                neverExpires = parse.GetValue(never) ? true : (bool?)null,
                scope = parse.GetValue(scope),
            }, ct);
            context.Show(created, () =>
            {
                var expires = created["expiresAt"] is null ? "never expires" : $"expires {CliContext.Text(created["expiresAt"])}";
                context.Console.MarkupLineInterpolated($"Token {CliContext.Text(created["name"])} ({CliContext.Text(created["id"])}) {expires}.");
                context.Console.MarkupLineInterpolated($"Token (shown only now; REHOME_TOKEN takes it): [bold yellow]{CliContext.Text(created["token"])}[/]");
            });
            return 0;
        });

        var id = new Argument<Guid>("token-id") { Description = "The token's id (see 'rehome tokens list')." };
        var revoke = new Command("revoke", "Revoke one of your API tokens: it is refused from now on.") { id };
        revoke.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var answer = await client.DeleteAsync($"/api/v1/tokens/{parse.GetValue(id)}", ct);
            context.Show(answer, () => context.Console.MarkupLineInterpolated($"Token {parse.GetValue(id)} revoked."));
            return 0;
        });
        return new Command("tokens", "Your personal API tokens, for scripts and other machines.") { list, create, revoke };
    }
}
