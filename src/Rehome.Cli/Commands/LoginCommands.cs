using System.CommandLine;
using Rehome.Cli.Client;
using Spectre.Console;

namespace Rehome.Cli.Commands;

/// <summary><c>rehome login</c>, <c>rehome logout</c>, <c>rehome password</c>, <c>rehome whoami</c>.</summary>
public static class LoginCommands
{
    public static IEnumerable<Command> Create(CliContext context)
    {
        var user = new Option<string>("--user") { Description = "Administrator user name.", DefaultValueFactory = _ => "admin" };
        var password = new Option<string?>("--password")
        {
            Description = "The password (default: REHOME_PASSWORD, else asked for). Prefer the prompt: a password on the command line stays in shell history.",
        };
        var login = new Command("login", "Sign in and keep an API token for the next commands (saved readable by you only).") { user, password };
        login.SetAction(async (parse, ct) =>
        {
            var server = parse.GetValue(context.ServerOption) ?? Environment.GetEnvironmentVariable("REHOME_SERVER") ?? "http://127.0.0.1:5080";
            var secret = parse.GetValue(password) ?? Environment.GetEnvironmentVariable("REHOME_PASSWORD")
                ?? context.Console.Prompt(new TextPrompt<string>("Password:").Secret());
            using var client = new RehomeApiClient(new Uri(server), null);
            var answer = await client.PostAsync("/api/v1/auth/token",
                new { userName = parse.GetValue(user), password = secret, tokenName = $"rehome CLI on {Environment.MachineName}" }, ct);
            var path = context.ConfigPath(parse);
            new CliConfig(server, (string)answer["token"]!).Save(path);
            // The token itself stays in the file readable by its owner only: standard output may be a log.
            answer.AsObject().Remove("token");
            answer["server"] = server;
            answer["config"] = path;
            context.Show(answer, () => context.Console.MarkupLineInterpolated(
                $"Signed in to [bold]{Terminal.Safe(server)}[/] as [bold]{Terminal.Safe(parse.GetValue(user))}[/]; token saved in {path}."));
            return 0;
        });

        var logout = new Command("logout", "Revoke the saved token and forget it.");
        logout.SetAction(async (parse, ct) =>
        {
            var path = context.ConfigPath(parse);
            using var client = context.Client(parse);
            var me = await client.GetAsync("/api/v1/auth/me", ct);
            var tokens = (await client.GetAsync("/api/v1/tokens", ct)).AsArray();
            var config = CliConfig.Load(path)!;
            var current = tokens.FirstOrDefault(t => config.Token.StartsWith((string)t!["prefix"]!, StringComparison.Ordinal) && t!["revokedAt"] is null);
            if (current is not null)
            {
                await client.DeleteAsync($"/api/v1/tokens/{current["id"]}", ct);
            }
            File.Delete(path);
            context.Show(me, () => context.Console.MarkupLineInterpolated($"Signed out {CliContext.Text(me["userName"])}; the token is revoked."));
            return 0;
        });

        var current = new Option<string?>("--current") { Description = "The current password (default: asked for)." };
        var next = new Option<string?>("--new") { Description = "The new password (default: asked for)." };
        var change = new Command("password", "Change your password.") { current, next };
        change.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var currentPassword = parse.GetValue(current) ?? context.Console.Prompt(new TextPrompt<string>("Current password:").Secret());
            var newPassword = parse.GetValue(next) ?? context.Console.Prompt(new TextPrompt<string>("New password:").Secret());
            var answer = await client.PostAsync("/api/v1/auth/password", new { currentPassword, newPassword }, ct);
            context.Show(answer, () => context.Console.MarkupLine("Password changed; your other tokens are revoked."));
            return 0;
        });
        var whoami = new Command("whoami", "Show who the saved token signs in as, and on which server.");
        whoami.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var me = await client.GetAsync("/api/v1/auth/me", ct);
            context.Show(me, () => context.Console.MarkupLineInterpolated(
                $"Signed in to {Terminal.Safe(client.Server.ToString())} as [bold]{CliContext.Text(me["userName"])}[/] ({CliContext.Text(me["id"])})."));
            return 0;
        });
        return [login, logout, change, whoami];
    }
}
