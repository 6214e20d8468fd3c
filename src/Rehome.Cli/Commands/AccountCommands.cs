using System.CommandLine;
using Rehome.Cli.Client;
using Spectre.Console;

namespace Rehome.Cli.Commands;

/// <summary><c>rehome accounts</c>: an administrator's management of the people who use Rehome.</summary>
public static class AccountCommands
{
    private const string Roles = "Administrator, Operator, Viewer or Auditor";

    public static Command Create(CliContext context)
    {
        var list = new Command("list", "List accounts: role, project limits, sign-in, state.");
        list.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var accounts = await client.GetAsync("/api/v1/accounts", ct);
            context.Show(accounts, () =>
            {
                var table = new Table().AddColumns("User name", "Role", "Projects", "Signs in with", "State", "Id");
                foreach (var a in accounts.AsArray())
                {
                    var projects = a!["projects"]!.AsArray().Count;
                    table.AddRow(Markup.Escape(CliContext.Text(a["userName"])), CliContext.Text(a["role"]), projects == 0 ? "all" : $"{projects} project(s)",
                        (bool)a["hasPassword"]! ? "password" : "single sign-on", a["disabledAt"] is null ? "enabled" : $"disabled {a["disabledAt"]}",
                        CliContext.Text(a["id"]));
                }
                context.Console.Write(table);
            });
            return 0;
        });

        var showAccount = new Argument<string>("account") { Description = "Id or user name." };
        var show = new Command("show", "Show one account: role, project limits, sign-in, state.") { showAccount };
        show.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var account = await client.GetAsync($"/api/v1/accounts/{await ResolveAsync(client, parse.GetValue(showAccount)!, ct)}", ct);
            context.Show(account, () => ResourceCommands.PrintTree(context, account));
            return 0;
        });

        var userName = new Argument<string>("user-name");
        var role = new Option<string>("--role") { Description = $"{Roles}.", Required = true };
        var projects = new Option<string[]>("--project") { Description = "Limit the role to this project (id or name; repeat for several). None: every project.", AllowMultipleArgumentsPerToken = true };
        var password = new Option<string?>("--password") { Description = "The first password (default: asked for). Prefer the prompt: a password on the command line stays in shell history." };
        var sso = new Option<bool>("--single-sign-on") { Description = "No password: the account signs in through the organisation's identity provider only." };
        var create = new Command("create", "Create an account with a role.") { userName, role, projects, password, sso };
        create.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var secret = parse.GetValue(sso) ? null : parse.GetValue(password) ?? context.Console.Prompt(new TextPrompt<string>("Password:").Secret());
            var body = new { userName = parse.GetValue(userName), role = parse.GetValue(role), password = secret, projects = await ProjectIdsAsync(client, parse.GetValue(projects), ct) };
            var created = await client.PostAsync("/api/v1/accounts", body, ct);
            context.Show(created, () => context.Console.MarkupLineInterpolated(
                $"Account {CliContext.Text(created["userName"])} created as {CliContext.Text(created["role"])} ({CliContext.Text(created["id"])})."));
            return 0;
        });

        var roleAccount = new Argument<string>("account") { Description = "Id or user name." };
        var newRole = new Argument<string>("role") { Description = $"{Roles}." };
        var roleProjects = new Option<string[]>("--project") { Description = "Limit the role to this project (repeat for several). None: every project.", AllowMultipleArgumentsPerToken = true };
        var setRole = new Command("set-role", "Change an account's role and project limits (its console sessions end).") { roleAccount, newRole, roleProjects };
        setRole.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var id = await ResolveAsync(client, parse.GetValue(roleAccount)!, ct);
            var body = new { role = parse.GetValue(newRole), projects = await ProjectIdsAsync(client, parse.GetValue(roleProjects), ct) };
            var updated = await client.PutAsync($"/api/v1/accounts/{id}", body, ct);
            context.Show(updated, () => context.Console.MarkupLineInterpolated($"{CliContext.Text(updated["userName"])} is now {CliContext.Text(updated["role"])}."));
            return 0;
        });

        var resetAccount = new Argument<string>("account") { Description = "Id or user name." };
        var resetPassword = new Option<string?>("--password") { Description = "The new password (default: asked for)." };
        var reset = new Command("reset-password", "Set a new password for an account; its tokens are revoked and its console sessions end.") { resetAccount, resetPassword };
        reset.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var id = await ResolveAsync(client, parse.GetValue(resetAccount)!, ct);
            var secret = parse.GetValue(resetPassword) ?? context.Console.Prompt(new TextPrompt<string>("New password:").Secret());
            var answer = await client.PostAsync($"/api/v1/accounts/{id}/password", new { newPassword = secret }, ct);
            context.Show(answer, () => context.Console.MarkupLine("Password set; the account's tokens and console sessions have ended."));
            return 0;
        });

        return new Command("accounts", "The accounts of the people who use Rehome (administrators only).")
        {
            list, show, create, setRole,
            Simple(context, "disable", "Disable an account: it signs in no more; its tokens and console sessions end at once.", "disable", "disabled"),
            Simple(context, "enable", "Enable a disabled account again.", "enable", "enabled"),
            reset,
            Simple(context, "delete", "Delete an account with its tokens (the audit log keeps its name).", null, "deleted"),
        };
    }

    /// <summary>A command on one account: a POST to <paramref name="action"/>, or a DELETE when it is null.</summary>
    private static Command Simple(CliContext context, string name, string description, string? action, string done)
    {
        var account = new Argument<string>("account") { Description = "Id or user name." };
        var command = new Command(name, description) { account };
        command.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var id = await ResolveAsync(client, parse.GetValue(account)!, ct);
            var answer = action is null
                ? await client.DeleteAsync($"/api/v1/accounts/{id}", ct)
                : await client.PostAsync($"/api/v1/accounts/{id}/{action}", new { }, ct);
            context.Show(answer, () => context.Console.MarkupLineInterpolated($"Account {Terminal.Safe(parse.GetValue(account))} {done}."));
            return 0;
        });
        return command;
    }

    /// <summary>An account id, or a user name (in any case) looked up in the list.</summary>
    private static async Task<Guid> ResolveAsync(RehomeApiClient client, string idOrName, CancellationToken ct)
    {
        if (Guid.TryParse(idOrName, out var id))
        {
            return id;
        }
        var match = (await client.GetAsync("/api/v1/accounts", ct)).AsArray()
            .FirstOrDefault(a => string.Equals((string?)a!["userName"], idOrName, StringComparison.OrdinalIgnoreCase))
            ?? throw new CliException($"No account is named '{Terminal.Safe(idOrName)}'. 'rehome accounts list' shows them.", ExitCodes.NotFound);
        return Guid.Parse((string)match["id"]!);
    }

    private static async Task<List<Guid>> ProjectIdsAsync(RehomeApiClient client, string[]? projects, CancellationToken ct)
    {
        var ids = new List<Guid>();
        foreach (var project in projects ?? [])
        {
            ids.Add(await CliContext.ResolveProjectAsync(client, project, ct));
        }
        return ids;
    }
}
