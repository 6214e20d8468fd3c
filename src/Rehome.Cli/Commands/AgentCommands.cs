using System.CommandLine;
using Spectre.Console;

namespace Rehome.Cli.Commands;

/// <summary><c>rehome agents</c>: the enrolled agents, showing, revoking or removing one, approving or refusing a held enrollment.</summary>
public static class AgentCommands
{
    public static Command Create(CliContext context)
    {
        var state = new Option<string?>("--state") { Description = "Only agents that are online, offline, revoked or awaiting-approval." };
        var search = new Option<string?>("--search") { Description = "Only devices whose name contains this." };
        var list = new Command("list", "List agents: state, last seen, version, current job.") { state, search };
        list.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var filters = new[] { ("state", parse.GetValue(state)), ("search", parse.GetValue(search)) }
                .Where(f => f.Item2 is not null).Select(f => $"&{f.Item1}={Uri.EscapeDataString(f.Item2!)}");
            var page = await client.GetAsync("/api/v1/agents?pageSize=1000" + string.Concat(filters), ct);
            context.Show(page, () =>
            {
                var table = new Table().AddColumns("Device", "State", "Last seen", "Version", "Joined to", "Current job", "Hardware id", "Key", "Id");
                foreach (var a in page["items"]!.AsArray())
                {
                    var job = a!["currentJob"];
                    table.AddRow(Markup.Escape(CliContext.Text(a["deviceName"])), CliContext.Text(a["state"]), CliContext.Text(a["lastSeenAt"]),
                        Markup.Escape(CliContext.Text(a["agentVersion"])), Markup.Escape($"{a["joinType"]} {a["domainName"] ?? a["tenantId"]}"),
                        job is null ? "" : Markup.Escape($"{job["kindName"]}: {job["step"]}"),
                        Markup.Escape(CliContext.Text(a["identity"]?["hardwareId"])), CliContext.Text(a["identity"]?["keyFingerprint"]), CliContext.Text(a["id"]));
                }
                context.Console.Write(table);
                context.Console.MarkupLineInterpolated($"{page["total"]} agent(s).");
            });
            return 0;
        });

        var showId = new Argument<Guid>("agent-id");
        var show = new Command("show", "Show one agent: its device, state, version, identity and current job.") { showId };
        show.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var agent = await client.GetAsync($"/api/v1/agents/{parse.GetValue(showId)}", ct);
            context.Show(agent, () => ResourceCommands.PrintTree(context, agent));
            return 0;
        });

        var id = new Argument<Guid>("agent-id");
        var revoke = new Command("revoke", "Refuse the agent from now on (its device must enroll again).") { id };
        revoke.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var answer = await client.PostAsync($"/api/v1/agents/{parse.GetValue(id)}/revoke", new { }, ct);
            context.Show(answer, () => context.Console.MarkupLineInterpolated($"Agent {parse.GetValue(id)} revoked."));
            return 0;
        });
        var removeId = new Argument<Guid>("agent-id");
        var remove = new Command("remove", "Revoke the agent and remove it from the list.") { removeId };
        remove.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var answer = await client.DeleteAsync($"/api/v1/agents/{parse.GetValue(removeId)}", ct);
            context.Show(answer, () => context.Console.MarkupLineInterpolated($"Agent {parse.GetValue(removeId)} removed."));
            return 0;
        });
        var approve = Decision("approve", "Approve a held enrollment: it replaces the device's agent (revoked) and takes over its mapping.", "approved");
        var refuse = Decision("refuse", "Refuse a held enrollment: the device keeps its agent; the same key is refused from now on.", "refused");
        return new Command("agents", "The devices' agents.") { list, show, revoke, remove, approve, refuse, CleanupCommands.Uninstall(context) };

        Command Decision(string verb, string description, string done)
        {
            var heldId = new Argument<Guid>("agent-id");
            var command = new Command(verb, description) { heldId };
            command.SetAction(async (parse, ct) =>
            {
                using var client = context.Client(parse);
                var answer = await client.PostAsync($"/api/v1/agents/{parse.GetValue(heldId)}/{verb}", new { }, ct);
                context.Show(answer, () => context.Console.MarkupLineInterpolated($"Enrollment {parse.GetValue(heldId)} {done}."));
                return 0;
            });
            return command;
        }
    }
}
