using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rehome.Core.Runs;
using Rehome.Server.Notifications;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Notifications;

/// <summary>A server whose email goes to a real SMTP server (aiosmtpd) started for it.</summary>
public abstract class NotificationWorld(StoreProvider provider) : IAsyncLifetime
{
    public ServerHost Host { get; private set; } = null!;

    public SmtpReceiver Smtp { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Smtp = await SmtpReceiver.StartAsync();
        Host = await ServerHost.StartAsync(provider, new()
        {
            ["Rehome:Notifications:Smtp:Host"] = "127.0.0.1",
            ["Rehome:Notifications:Smtp:Port"] = Smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Rehome:Notifications:Smtp:Security"] = "None",
            ["Rehome:Notifications:Smtp:From"] = "Rehome <rehome@rehome.test>",
            ["Rehome:Notifications:ConsoleUrl"] = "https://rehome.example.com",
        });
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        await Smtp.DisposeAsync();
    }
}

public sealed class SqliteNotificationWorld() : NotificationWorld(StoreProvider.Sqlite);

public sealed class PostgresNotificationWorld() : NotificationWorld(StoreProvider.PostgreSql);

/// <summary>
/// Issue 15's notifications end to end: subscriptions through the API, events recorded where they happen, batched
/// per subscription and window, delivered to a loopback webhook receiver that checks the signature and to a real
/// SMTP server; on SQLite and PostgreSQL.
/// </summary>
public abstract class NotificationsSuite(NotificationWorld world)
{
    private const string Secret = "webhook-secret-0123456789";
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(60);

    private ServerHost Host => world.Host;

    private HttpClient Client => Host.Client;

    private static string Prefix() => "N" + Guid.NewGuid().ToString("N")[..6].ToUpperInvariant();

    private async Task<DispatchResult> DispatchAsync()
    {
        await using var scope = Host.Scope();
        return await scope.ServiceProvider.GetRequiredService<NotificationDispatcher>().RunOnceAsync(CancellationToken.None);
    }

    private Task<JsonElement> SubscribeAsync(object body, HttpStatusCode expected = HttpStatusCode.Created) =>
        Client.PostJsonAsync("/api/v1/notifications/subscriptions", body, expected);

    private async Task<JsonElement> DeliveriesAsync(Guid subscription) =>
        await Client.GetJsonAsync($"/api/v1/notifications/subscriptions/{subscription}/deliveries");

    private async Task<string> ProjectNameAsync(Guid project) =>
        (await Client.GetJsonAsync($"/api/v1/projects/{project}")).GetProperty("name").GetString()!;

    /// <summary>A project whose rejoins start at once (Entra ID offline), with a run of RejoinDomain on <paramref name="count"/> devices.</summary>
    private async Task<(Guid Project, List<Guid> Mappings)> RunningProjectAsync(int count)
    {
        var project = await Client.CreateProjectAsync("EntraId", "Offline");
        var ids = await Client.ImportDevicesAsync(project, Prefix(), count);
        await Client.PostJsonAsync($"/api/v1/projects/{project}/runs", new { kinds = new[] { "RejoinDomain" }, mappingIds = ids });
        return (project, ids);
    }

    [Fact]
    public async Task A_webhook_answered_500_is_tried_again_after_its_back_off_and_the_history_shows_both_attempts()
    {
        await using var receiver = await WebhookReceiver.StartAsync(Secret, 500, 200);
        var (project, ids) = await RunningProjectAsync(1);
        var subscription = (await SubscribeAsync(new { name = Prefix(), projectId = project, events = new[] { "JobFailed" }, channel = "Webhook", webhookUrl = receiver.Url, webhookSecret = Secret })).Id();

        await Host.EndNextJobAsync(ids[0], JobStatus.Failed);
        await DispatchAsync();
        var beforeWindow = receiver.Requests.Count;
        Host.Time.Advance(Window);
        await DispatchAsync();
        var afterFirst = await DeliversAsync(subscription);
        Host.Time.Advance(TimeSpan.FromMinutes(1));
        await DispatchAsync();
        var beforeBackOff = receiver.Requests.Count;
        Host.Time.Advance(TimeSpan.FromMinutes(4.5));
        await DispatchAsync();

        Assert.Equal(0, beforeWindow);
        Assert.Equal(("Pending", 1), afterFirst);
        Assert.Equal(1, beforeBackOff);
        var requests = receiver.Requests.ToArray();
        Assert.Equal([500, 200], requests.Select(r => r.Answered));
        Assert.All(requests, r => Assert.True(r.SignatureValid, "the signature does not verify"));
        Assert.Single(requests.Select(r => r.DeliveryId).Distinct());
        Assert.Equal(requests[0].Body, requests[1].Body);
        using var body = JsonDocument.Parse(requests[1].Body);
        Assert.Equal("JobFailed", body.RootElement.GetProperty("kind").GetString());
        Assert.Equal(await ProjectNameAsync(project), body.RootElement.GetProperty("project").GetProperty("name").GetString());
        Assert.Equal("StepFailed", body.RootElement.GetProperty("events")[0].GetProperty("details").GetProperty("reason").GetString());
        Assert.Equal(Host.Now.ToUnixTimeSeconds(), requests[1].SignedAt);
        var delivery = (await DeliveriesAsync(subscription))[0];
        Assert.Equal("Delivered", delivery.GetProperty("status").GetString());
        Assert.Equal([500, 200], delivery.GetProperty("history").EnumerateArray().Select(a => a.GetProperty("statusCode").GetInt32()));
        Assert.Equal(requests[0].DeliveryId, delivery.Id().ToString());
    }

    private async Task<(string Status, int Attempts)> DeliversAsync(Guid subscription)
    {
        var delivery = (await DeliveriesAsync(subscription))[0];
        return (delivery.GetProperty("status").GetString()!, delivery.GetProperty("attempts").GetInt32());
    }

    [Fact]
    public async Task A_webhook_answered_410_is_never_tried_again()
    {
        await using var receiver = await WebhookReceiver.StartAsync(Secret, 410);
        var (project, ids) = await RunningProjectAsync(1);
        var subscription = (await SubscribeAsync(new { name = Prefix(), projectId = project, events = new[] { "JobFailed" }, channel = "Webhook", webhookUrl = receiver.Url, webhookSecret = Secret })).Id();

        await Host.EndNextJobAsync(ids[0], JobStatus.Failed);
        await DispatchAsync();
        Host.Time.Advance(Window);
        await DispatchAsync();
        Host.Time.Advance(TimeSpan.FromHours(2));
        await DispatchAsync();

        Assert.Single(receiver.Requests);
        Assert.Equal(("Stopped", 1), await DeliversAsync(subscription));
    }

    [Fact]
    public async Task Five_thousand_job_failures_make_one_email_with_counts_by_reason_and_the_first_ones_listed()
    {
        var project = await Client.CreateProjectAsync();
        var name = await ProjectNameAsync(project);
        var to = new[] { $"{Prefix()}@ops.test", $"{Prefix()}@ops.test" };
        await SubscribeAsync(new { name = Prefix(), projectId = project, events = new[] { "JobFailed" }, channel = "Email", emailAddresses = to });
        await using (var scope = Host.Scope())
        {
            // The 5,000 failures recorded as the transitions record each (the path of one real failure is the webhook tests').
            var db = scope.ServiceProvider.GetRequiredService<RehomeDbContext>();
            var outbox = scope.ServiceProvider.GetRequiredService<NotificationOutbox>();
            await using var transaction = await db.Database.BeginTransactionAsync();
            for (var i = 0; i < 5000; i++)
            {
                await outbox.RecordAsync(NotificationEventKind.JobFailed, project, new NotificationEventData($"Rejoin domain failed on PC{i:D4}", name,
                    Device: $"PC{i:D4}", Reason: i % 2 == 0 ? "DirectoryUnavailable" : "StepFailed", Message: "It broke."), CancellationToken.None);
            }
            await transaction.CommitAsync();
        }

        await DispatchAsync();
        Host.Time.Advance(Window);
        await DispatchAsync();

        var mails = world.Smtp.Messages().Where(m => m.To.Intersect(to).Any()).ToList();
        var mail = Assert.Single(mails);
        Assert.Equal(to.Order(), mail.To.Order());
        Assert.Equal($"[Rehome] {name}: 5,000 jobs failed", mail.Message.Subject);
        var text = mail.Message.TextBody;
        Assert.Contains("DirectoryUnavailable: 2,500", text, StringComparison.Ordinal);
        Assert.Contains("StepFailed: 2,500", text, StringComparison.Ordinal);
        Assert.Contains("PC0000", text, StringComparison.Ordinal);
        Assert.Contains("PC0019", text, StringComparison.Ordinal);
        Assert.DoesNotContain("PC0020", text, StringComparison.Ordinal);
        Assert.Contains("and 4,980 more.", text, StringComparison.Ordinal);
        Assert.Contains($"https://rehome.example.com/projects/{project}", mail.Message.HtmlBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failed_job_and_the_end_of_its_run_make_one_email_through_the_real_transitions()
    {
        var project = await Client.CreateProjectAsync("EntraId", "Offline");
        var ids = await Client.ImportDevicesAsync(project, Prefix(), 2);
        var to = $"{Prefix()}@ops.test";
        await SubscribeAsync(new { name = Prefix(), projectId = project, events = new[] { "JobFailed", "RunFinished" }, channel = "Email", emailAddresses = new[] { to } });
        await Client.PostJsonAsync($"/api/v1/projects/{project}/runs", new { kinds = new[] { "RejoinDomain" }, mappingIds = ids });
        // Agents' messages are text from outside: the HTML must show them, not run them.
        await Host.EndNextJobAsync(ids[0], JobStatus.Finished);
        await using (var scope = Host.Scope())
        {
            var transitions = scope.ServiceProvider.GetRequiredService<Rehome.Server.Runs.JobTransitions>();
            var job = await transitions.LeaseNextAsync(ids[1], Guid.NewGuid(), TimeSpan.FromMinutes(1), CancellationToken.None);
            await transitions.CompleteAsync(job!.Id, job.LeaseOwner!.Value, job.LeaseToken!.Value, new Rehome.Server.Runs.JobCompletion(JobStatus.Failed,
                new Rehome.Server.Runs.JobProgress(1, 1, 0, 1), "JoinFailed", "<script>alert(1)</script> & more"), CancellationToken.None);
        }

        var first = await DispatchAsync();
        Host.Time.Advance(Window);
        await DispatchAsync();
        var again = await DispatchAsync();

        Assert.Equal(1, first.Recorded);
        Assert.Equal(0, again.Recorded);
        var mail = Assert.Single(world.Smtp.Messages(), m => m.To.Contains(to));
        Assert.Equal($"[Rehome] {await ProjectNameAsync(project)}: a job failed, a run finished", mail.Message.Subject);
        Assert.Contains("Finished 1, Failed 1", mail.Message.TextBody, StringComparison.Ordinal);
        Assert.Contains("JoinFailed", mail.Message.TextBody, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more", mail.Message.HtmlBody, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", mail.Message.HtmlBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_test_message_is_sent_at_once_and_kept_in_the_delivery_history()
    {
        var to = $"{Prefix()}@ops.test";
        var subscription = (await SubscribeAsync(new { name = Prefix(), events = new[] { "RunFinished" }, channel = "Email", emailAddresses = new[] { to } })).Id();

        var sent = await Client.PostJsonAsync($"/api/v1/notifications/subscriptions/{subscription}/test", new { }, HttpStatusCode.OK);

        Assert.Equal("Delivered", sent.GetProperty("status").GetString());
        Assert.True(sent.GetProperty("isTest").GetBoolean());
        var mail = Assert.Single(world.Smtp.Messages(), m => m.To.Contains(to));
        Assert.Equal("[Rehome] test message", mail.Message.Subject);
        Assert.Equal(sent.Id(), (await DeliveriesAsync(subscription))[0].Id());
    }

    [Fact]
    public async Task A_webhook_secret_is_never_shown_back_only_that_it_is_set()
    {
        var created = await SubscribeAsync(new { name = Prefix(), events = new[] { "JobFailed" }, channel = "Webhook", webhookUrl = "https://hooks.example.com/rehome", webhookSecret = Secret });
        var listed = await Client.GetAsync(new Uri("/api/v1/notifications/subscriptions", UriKind.Relative));

        Assert.True(created.GetProperty("webhookSecretSet").GetBoolean());
        Assert.DoesNotContain(Secret, created.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, await listed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await using var scope = Host.Scope();
        var stored = await scope.ServiceProvider.GetRequiredService<RehomeDbContext>().NotificationSubscriptions.AsNoTracking().SingleAsync(s => s.Id == created.Id());
        Assert.DoesNotContain(Secret, stored.WebhookSecretProtected!, StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string> BadSubscriptions() => new()
    {
        { """{"name":"x","events":["JobFailed"],"channel":"Webhook","webhookUrl":"ftp://hooks.example.com/x","webhookSecret":"0123456789abcdef"}""", "webhookUrl", "InvalidUrl" },
        { """{"name":"x","events":["JobFailed"],"channel":"Webhook","webhookUrl":"http://hooks.example.com/x","webhookSecret":"0123456789abcdef"}""", "webhookUrl", "HttpsRequired" },
        { """{"name":"x","events":["JobFailed"],"channel":"Webhook","webhookUrl":"https://user:pw@hooks.example.com/x","webhookSecret":"0123456789abcdef"}""", "webhookUrl", "CredentialsInUrl" },
        { """{"name":"x","events":["JobFailed"],"channel":"Webhook","webhookUrl":"https://hooks.example.com/x"}""", "webhookSecret", "Required" },
        { """{"name":"x","events":["JobFailed"],"channel":"Email","emailAddresses":["ops@example.com","not an address"]}""", "emailAddresses[1]", "InvalidEmailAddress" },
        { """{"name":"x","events":["JobFailed"],"channel":"Email","emailAddresses":["Ops <ops@example.com>"]}""", "emailAddresses[0]", "InvalidEmailAddress" },
        { """{"name":"x","events":["JobFailed","EverythingHappened"],"channel":"Email","emailAddresses":["ops@example.com"]}""", "events[1]", "UnknownEventKind" },
        { """{"name":"x","events":[],"channel":"Email","emailAddresses":["ops@example.com"]}""", "events", "Required" },
        { $$"""{"name":"{{new string('n', 101)}}","events":["JobFailed"],"channel":"Email","emailAddresses":["ops@example.com"]}""", "name", "MaxLength" },
        { """{"name":"a\u001Bb","events":["JobFailed"],"channel":"Email","emailAddresses":["ops@example.com"]}""", "name", "ControlCharacter" },
        { """{"name":"x","events":["JobFailed"],"channel":"Pigeon"}""", "channel", "UnknownChannel" },
        { """{"name":"x","projectId":"0196b9a2-0000-7000-8000-000000000000","events":["JobFailed"],"channel":"Email","emailAddresses":["ops@example.com"]}""", "projectId", "ProjectNotFound" },
    };

    [Theory]
    [MemberData(nameof(BadSubscriptions))]
    public async Task A_bad_subscription_is_refused_naming_the_field_and_nothing_is_written(string body, string field, string rule)
    {
        var before = (await Client.GetJsonAsync("/api/v1/notifications/subscriptions")).GetArrayLength();

        using var response = await Client.PostAsync(new Uri("/api/v1/notifications/subscriptions", UriKind.Relative),
            new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        var problem = await response.JsonAsync(HttpStatusCode.BadRequest);

        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(problem.GetProperty("errors").EnumerateArray(), e => e.GetProperty("field").GetString() == field && e.GetProperty("rule").GetString() == rule);
        Assert.Equal(before, (await Client.GetJsonAsync("/api/v1/notifications/subscriptions")).GetArrayLength());
    }
}

public sealed class NotificationsOnSqlite(SqliteNotificationWorld world) : NotificationsSuite(world), IClassFixture<SqliteNotificationWorld>;

public sealed class NotificationsOnPostgres(PostgresNotificationWorld world) : NotificationsSuite(world), IClassFixture<PostgresNotificationWorld>;
