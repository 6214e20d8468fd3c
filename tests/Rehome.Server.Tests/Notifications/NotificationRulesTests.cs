using Rehome.Server.Notifications;

namespace Rehome.Server.Tests.Notifications;

/// <summary>The pure parts of notifications: subscription rules, the signature, the back-off, the words of a message.</summary>
public sealed class NotificationRulesTests
{
    private static readonly SubscriptionRules.Context Allowing = new(HasSecret: false, AllowHttpWebhooks: false, EmailConfigured: true);

    private static SubscriptionInput Webhook(string url) => new("hook", null, ["JobFailed"], "Webhook", WebhookUrl: url, WebhookSecret: "0123456789abcdef");

    [Theory]
    [InlineData("http://127.0.0.1:8080/hook")]
    [InlineData("http://[::1]/hook")]
    [InlineData("http://localhost/hook")]
    [InlineData("https://hooks.example.com/rehome")]
    public void A_webhook_takes_https_or_plain_http_to_this_machine_only(string url) =>
        Assert.Empty(SubscriptionRules.Validate(Webhook(url), Allowing).Violations);

    [Fact]
    public void Plain_http_elsewhere_is_taken_only_when_the_setting_allows_it()
    {
        var refused = SubscriptionRules.Validate(Webhook("http://hooks.example.com/x"), Allowing).Violations;
        var allowed = SubscriptionRules.Validate(Webhook("http://hooks.example.com/x"), Allowing with { AllowHttpWebhooks = true }).Violations;

        Assert.Equal("HttpsRequired", Assert.Single(refused).Rule);
        Assert.Empty(allowed);
    }

    [Fact]
    public void An_email_subscription_is_refused_while_no_SMTP_server_is_set()
    {
        var (violations, _) = SubscriptionRules.Validate(new SubscriptionInput("mail", null, ["RunFinished"], "Email", ["ops@example.com"]),
            Allowing with { EmailConfigured = false });

        Assert.Equal(("channel", "EmailNotConfigured"), (violations[0].Field, violations[0].Rule));
    }

    [Fact]
    public void Event_kinds_are_taken_by_name_and_not_by_number()
    {
        var (violations, _) = SubscriptionRules.Validate(new SubscriptionInput("mail", null, ["1"], "Email", ["ops@example.com"]), Allowing);

        Assert.Equal(("events[0]", "UnknownEventKind"), (violations[0].Field, violations[0].Rule));
    }

    [Fact]
    public void A_signature_verifies_with_its_secret_and_not_after_the_body_the_secret_or_the_time_changed()
    {
        var at = new DateTimeOffset(2026, 12, 6, 9, 0, 0, TimeSpan.Zero);
        var header = WebhookSignature.Sign("secret-0123456789", at, """{"id":1}""");
        var tolerance = TimeSpan.FromMinutes(5);

        Assert.Matches("^t=1796547600,v1=[0-9a-f]{64}$", header);
        Assert.True(WebhookSignature.Verify(header, "secret-0123456789", """{"id":1}""", at.AddMinutes(1), tolerance));
        Assert.False(WebhookSignature.Verify(header, "secret-0123456789", """{"id":2}""", at, tolerance));
        Assert.False(WebhookSignature.Verify(header, "another-secret-012", """{"id":1}""", at, tolerance));
        Assert.False(WebhookSignature.Verify(header, "secret-0123456789", """{"id":1}""", at.AddMinutes(6), tolerance));
    }

    [Fact]
    public void Five_attempts_with_the_default_back_off_span_about_an_hour()
    {
        var initial = new NotificationOptions().RetryInitialDelay;
        var least = Enumerable.Range(1, 4).Select(n => NotificationDispatcher.RetryDelay(n, initial, 0)).Aggregate(TimeSpan.Zero, (a, b) => a + b);
        var most = Enumerable.Range(1, 4).Select(n => NotificationDispatcher.RetryDelay(n, initial, 1)).Aggregate(TimeSpan.Zero, (a, b) => a + b);

        Assert.Equal(TimeSpan.FromMinutes(60), least);
        Assert.Equal(TimeSpan.FromMinutes(66), most);
    }

    [Fact]
    public void A_subject_holds_no_line_break_or_control_character_whatever_the_project_is_called()
    {
        var message = NotificationComposer.Compose(Guid.NewGuid(), "s",
            [new ListedEvent(NotificationEventKind.JobFailed, DateTimeOffset.UnixEpoch, Guid.NewGuid(), new NotificationEventData("x", "Wave\r\nBcc: all@example.com\u001B[31m\u202E"))],
            20, null);

        var subject = NotificationComposer.Subject(message);

        Assert.Equal("[Rehome] WaveBcc: all@example.com[31m: a job failed", subject);
    }
}
