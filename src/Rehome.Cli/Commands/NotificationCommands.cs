using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Rehome.Cli.Client;
using Spectre.Console;

namespace Rehome.Cli.Commands;

/// <summary>
/// <c>rehome notifications</c>: subscriptions of an email list or a webhook to kinds of events, test messages and
/// delivery history (administrators only).
/// </summary>
public static class NotificationCommands
{
    private const string Path = "/api/v1/notifications/subscriptions";

    private const string Kinds =
        "RunFinished, JobFailed, DeviceAwaitingApproval, DestinationPreparationFailing, ConnectionTestFailed, BulkEnrollmentTokenExpiring, AgentOfflineDuringRun";

    /// <summary>Exit code of <c>test</c> when the test message was not delivered.</summary>
    public const int NotDelivered = ExitCodes.CheckFailed;

    public static Command Create(CliContext context)
    {
        var list = new Command("list", "List subscriptions: events, channel, where to, project.");
        list.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var subscriptions = await client.GetAsync(Path, ct);
            context.Show(subscriptions, () =>
            {
                var table = new Table().AddColumns("Name", "Events", "Channel", "To", "Project", "State", "Id");
                foreach (var s in subscriptions.AsArray())
                {
                    table.AddRow(Markup.Escape(CliContext.Text(s!["name"])), Markup.Escape(Join(s["events"])), CliContext.Text(s["channel"]), Markup.Escape(To(s)),
                        Markup.Escape(ProjectOf(s)), (bool)s["enabled"]! ? "enabled" : "disabled", CliContext.Text(s["id"]));
                }
                context.Console.Write(table);
            });
            return 0;
        });

        var showSubscription = SubscriptionArgument();
        var show = new Command("show", "Show one subscription.") { showSubscription };
        show.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var subscription = await client.GetAsync($"{Path}/{await ResolveAsync(client, parse.GetValue(showSubscription)!, ct)}", ct);
            context.Show(subscription, () =>
            {
                WriteSubscription(context, subscription);
            });
            return 0;
        });

        var name = new Argument<string>("name");
        var add = new Command("add", "Subscribe an email list (--email) or a webhook (--webhook with --secret) to kinds of events.") { name };
        var addOptions = new SubscriptionOptions(add, forUpdate: false);
        add.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var body = await addOptions.BodyAsync(context, client, parse, parse.GetValue(name), null, ct);
            var created = await client.PostAsync(Path, body, ct);
            context.Show(created, () =>
            {
                context.Console.MarkupLineInterpolated($"Subscription {CliContext.Text(created["name"])} created ({CliContext.Text(created["id"])}).");
            });
            return 0;
        });

        var updateSubscription = SubscriptionArgument();
        var update = new Command("update", "Change a subscription: what is not given stays (a webhook's secret too, unless its URL changes).") { updateSubscription };
        var updateOptions = new SubscriptionOptions(update, forUpdate: true);
        update.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var id = await ResolveAsync(client, parse.GetValue(updateSubscription)!, ct);
            var current = await client.GetAsync($"{Path}/{id}", ct);
            var body = await updateOptions.BodyAsync(context, client, parse, null, current, ct);
            var updated = await client.PutAsync($"{Path}/{id}", body, ct);
            context.Show(updated, () =>
            {
                context.Console.MarkupLineInterpolated($"Subscription {CliContext.Text(updated["name"])} saved.");
            });
            return 0;
        });

        var removeSubscription = SubscriptionArgument();
        var remove = new Command("remove", "Delete a subscription with its delivery history.") { removeSubscription };
        remove.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var removed = await client.DeleteAsync($"{Path}/{await ResolveAsync(client, parse.GetValue(removeSubscription)!, ct)}", ct);
            context.Show(removed, () => context.Console.MarkupLineInterpolated($"Subscription {Terminal.Safe(parse.GetValue(removeSubscription))} removed."));
            return 0;
        });

        var testSubscription = SubscriptionArgument();
        var test = new Command("test", $"Send a test message now (one attempt) and say how it went; exit code {NotDelivered} when it was not delivered.") { testSubscription };
        test.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var id = await ResolveAsync(client, parse.GetValue(testSubscription)!, ct);
            var delivery = await client.PostAsync($"{Path}/{id}/test", new { }, ct);
            var delivered = (string?)delivery["status"] == "Delivered";
            context.Show(delivery, () =>
            {
                if (delivered)
                {
                    context.Console.MarkupLineInterpolated($"Test message delivered ({CliContext.Text(delivery["lastStatusCode"])}).");
                }
                else
                {
                    context.Console.MarkupLineInterpolated($"Test message not delivered: {CliContext.Text(delivery["lastStatusCode"])} {CliContext.Text(delivery["lastError"])}");
                }
            });
            return delivered ? 0 : NotDelivered;
        });

        var historySubscription = SubscriptionArgument();
        var limit = new Option<int?>("--limit") { Description = "How many of the latest messages (1 to 200; default 50)." };
        var deliveries = new Command("deliveries", "The subscription's latest messages, newest first, with every attempt: when, status code, error.")
        {
            historySubscription, limit,
        };
        deliveries.SetAction(async (parse, ct) =>
        {
            using var client = context.Client(parse);
            var id = await ResolveAsync(client, parse.GetValue(historySubscription)!, ct);
            var query = parse.GetValue(limit) is { } n ? $"?limit={n.ToString(CultureInfo.InvariantCulture)}" : "";
            var history = await client.GetAsync($"{Path}/{id}/deliveries{query}", ct);
            context.Show(history, () =>
            {
                WriteDeliveries(context, history);
            });
            return 0;
        });

        return new Command("notifications", "Notifications by email or signed webhook: subscriptions, test messages, delivery history (administrators only).")
        {
            list, show, add, update, remove, test, deliveries,
        };
    }

    /// <summary>The options of <c>add</c> and <c>update</c>, and the body they make.</summary>
    private sealed class SubscriptionOptions
    {
        private readonly bool forUpdate;
        private readonly Option<string?> rename = new("--name") { Description = "A new name." };
        private readonly Option<string[]> events = new("--event")
        {
            Description = $"An event kind to hear of (repeat for several): {Kinds}.",
            AllowMultipleArgumentsPerToken = true,
        };

        private readonly Option<string[]> emails = new("--email") { Description = "Send email to this address (repeat for several).", AllowMultipleArgumentsPerToken = true };
        private readonly Option<string?> webhook = new("--webhook") { Description = "POST signed JSON to this https:// URL." };
        private readonly Option<string?> secret = new("--secret")
        {
            Description = "The webhook's signing secret, at least 16 characters (default: asked for). Prefer the prompt: a secret on the command line stays in shell history.",
        };

        private readonly Option<string?> project = new("--project") { Description = "Only this project's events (id or name). None: every project." };
        private readonly Option<bool> allProjects = new("--all-projects") { Description = "Every project's events (drops a project limit)." };
        private readonly Option<bool> disable = new("--disable") { Description = "Keep the subscription but send nothing." };
        private readonly Option<bool> enable = new("--enable") { Description = "Send again." };

        public SubscriptionOptions(Command command, bool forUpdate)
        {
            this.forUpdate = forUpdate;
            if (forUpdate)
            {
                command.Add(rename);
            }
            command.Add(events);
            command.Add(emails);
            command.Add(webhook);
            command.Add(secret);
            command.Add(project);
            if (forUpdate)
            {
                command.Add(allProjects);
                command.Add(enable);
            }
            command.Add(disable);
        }

        /// <summary>The subscription to send: what was given, over <paramref name="current"/> for an update.</summary>
        public async Task<object> BodyAsync(CliContext context, RehomeApiClient client, ParseResult parse, string? name, JsonNode? current, CancellationToken ct)
        {
            var emailsGiven = parse.GetValue(emails) is { Length: > 0 } e ? e : null;
            var url = parse.GetValue(webhook);
            if (emailsGiven is not null && url is not null)
            {
                throw new CliException("Give --email or --webhook, not both: a subscription has one channel.");
            }
            if (parse.GetValue(enable) && parse.GetValue(disable))
            {
                throw new CliException("Give --enable or --disable, not both.");
            }
            if (parse.GetValue(project) is not null && parse.GetValue(allProjects))
            {
                throw new CliException("Give --project or --all-projects, not both.");
            }
            var channel = emailsGiven is not null ? "Email" : url is not null ? "Webhook" : (string?)current?["channel"];
            var kinds = parse.GetValue(events) is { Length: > 0 } k ? k : current?["events"]?.AsArray().Select(x => (string)x!).ToArray();
            var projectId = parse.GetValue(project) is { } p ? await CliContext.ResolveProjectAsync(client, p, ct)
                : parse.GetValue(allProjects) ? null : (Guid?)current?["projectId"];
            var addresses = emailsGiven ?? (channel == (string?)current?["channel"] ? current?["emailAddresses"]?.AsArray().Select(x => (string)x!).ToArray() : null);
            url ??= channel == (string?)current?["channel"] ? (string?)current?["webhookUrl"] : null;
            var signingSecret = parse.GetValue(secret);
            // A new webhook needs its secret; an update keeps the saved one unless the URL changes (the server says so).
            var needsSecret = channel == "Webhook" && (!forUpdate || parse.GetValue(webhook) is not null && parse.GetValue(webhook) != (string?)current?["webhookUrl"]);
            if (signingSecret is null && needsSecret && context.Console.Profile.Capabilities.Interactive)
            {
                signingSecret = context.Console.Prompt(new TextPrompt<string>("Webhook secret:").Secret());
            }
            var enabled = parse.GetValue(disable) ? false : parse.GetValue(enable) ? true : (bool?)current?["enabled"] ?? true;
            return new
            {
                name = parse.GetValue(rename) ?? name ?? (string?)current?["name"],
                projectId,
                events = kinds,
                channel,
                emailAddresses = channel == "Email" ? addresses : null,
                webhookUrl = channel == "Webhook" ? url : null,
                webhookSecret = signingSecret,
                enabled,
            };
        }
    }

    private static Argument<string> SubscriptionArgument() => new("subscription") { Description = "Id or name." };

    private static void WriteSubscription(CliContext context, JsonNode s)
    {
        var grid = new Grid().AddColumn().AddColumn();
        grid.AddRow("Name", Markup.Escape(CliContext.Text(s["name"])));
        grid.AddRow("Id", CliContext.Text(s["id"]));
        grid.AddRow("Events", Markup.Escape(Join(s["events"])));
        grid.AddRow("Channel", CliContext.Text(s["channel"]));
        grid.AddRow("To", Markup.Escape(To(s)));
        if ((string?)s["channel"] == "Webhook")
        {
            grid.AddRow("Secret", (bool?)s["webhookSecretSet"] == true ? "set" : "not set");
        }
        grid.AddRow("Project", Markup.Escape(ProjectOf(s)));
        grid.AddRow("State", (bool)s["enabled"]! ? "enabled" : "disabled");
        grid.AddRow("Updated", CliContext.Text(s["updatedAt"]));
        context.Console.Write(grid);
    }

    /// <summary>One row per attempt (a message not tried yet has one row of its own).</summary>
    private static void WriteDeliveries(CliContext context, JsonNode history)
    {
        var table = new Table().AddColumns("Message", "Created", "Status", "Events", "Attempt", "At", "Code", "Error");
        foreach (var d in history.AsArray())
        {
            var attempts = d!["history"]!.AsArray();
            var what = $"{CliContext.Text(d["id"])}{((bool?)d["isTest"] == true ? " (test)" : "")}";
            if (attempts.Count == 0)
            {
                table.AddRow(what, CliContext.Text(d["createdAt"]), CliContext.Text(d["status"]), CliContext.Text(d["eventCount"]), "", "", "", "");
            }
            foreach (var a in attempts)
            {
                table.AddRow(what, CliContext.Text(d["createdAt"]), CliContext.Text(d["status"]), CliContext.Text(d["eventCount"]), CliContext.Text(a!["number"]),
                    CliContext.Text(a["at"]), CliContext.Text(a["statusCode"]), Markup.Escape(CliContext.Text(a["error"])));
            }
        }
        context.Console.Write(table);
        context.Console.MarkupLineInterpolated($"{history.AsArray().Count} message(s).");
    }

    private static string Join(JsonNode? array) => string.Join(", ", array?.AsArray().Select(x => CliContext.Text(x)) ?? []);

    private static string To(JsonNode s) => (string?)s["channel"] == "Email" ? Join(s["emailAddresses"]) : CliContext.Text(s["webhookUrl"]);

    private static string ProjectOf(JsonNode s) => s["projectId"] is null ? "every project" : CliContext.Text(s["projectName"] ?? s["projectId"]);

    /// <summary>A subscription id, or a name (in any case) looked up in the list.</summary>
    private static async Task<Guid> ResolveAsync(RehomeApiClient client, string idOrName, CancellationToken ct)
    {
        if (Guid.TryParse(idOrName, out var id))
        {
            return id;
        }
        var match = (await client.GetAsync(Path, ct)).AsArray()
            .FirstOrDefault(s => string.Equals((string?)s!["name"], idOrName, StringComparison.OrdinalIgnoreCase))
            ?? throw new CliException($"No subscription is named '{Terminal.Safe(idOrName)}'. 'rehome notifications list' shows them.");
        return Guid.Parse((string)match["id"]!);
    }
}
