using System.Net;
using MimeKit;
using Rehome.Core.Validation;

namespace Rehome.Server.Notifications;

/// <summary>A subscription as the API and the console send it; event kinds and channel by name.</summary>
public sealed record SubscriptionInput(
    string? Name, Guid? ProjectId, List<string>? Events, string? Channel, List<string>? EmailAddresses = null,
    string? WebhookUrl = null, string? WebhookSecret = null, bool? Enabled = null);

/// <summary>A subscription's input once it passed <see cref="SubscriptionRules.Validate"/>.</summary>
public sealed record CheckedSubscription(
    string Name, Guid? ProjectId, List<NotificationEventKind> Events, NotificationChannel Channel, List<string> EmailAddresses, string? WebhookUrl,
    string? WebhookSecret, bool Enabled);

/// <summary>What a subscription must be: every violation names its field.</summary>
public static class SubscriptionRules
{
    public const int NameMaxLength = 100;
    public const int MaxAddresses = 20;
    public const int AddressMaxLength = 254;
    public const int UrlMaxLength = 2000;
    public const int SecretMinLength = 16;
    public const int SecretMaxLength = 256;

    /// <summary>What the server allows that the input cannot say.</summary>
    public sealed record Context(bool HasSecret, bool AllowHttpWebhooks, bool EmailConfigured);

    public static (IReadOnlyList<RuleViolation> Violations, CheckedSubscription? Subscription) Validate(SubscriptionInput? input, Context context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var violations = new RuleViolations();
        if (input is null)
        {
            violations.Add("request", "Required", "A subscription is required.");
            return (violations.Items, null);
        }
        if (violations.Require("name", input.Name, "The name"))
        {
            violations.Text("name", input.Name!.Trim(), NameMaxLength, "The name");
        }
        var events = Events(input.Events, violations);
        NotificationChannel? channel = null;
        if (string.IsNullOrWhiteSpace(input.Channel))
        {
            violations.Add("channel", "Required", "The channel is required: Email or Webhook.");
        }
        else if (Enum.TryParse<NotificationChannel>(input.Channel, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) && !int.TryParse(input.Channel, out _))
        {
            channel = parsed;
        }
        else
        {
            violations.Add("channel", "UnknownChannel", "The channel is Email or Webhook.");
        }
        var addresses = new List<string>();
        if (channel == NotificationChannel.Email)
        {
            addresses = Addresses(input.EmailAddresses, violations);
            if (!context.EmailConfigured)
            {
                violations.Add("channel", "EmailNotConfigured", "No SMTP server is set (Rehome:Notifications:Smtp:Host): email cannot be sent.");
            }
        }
        string? url = null;
        if (channel == NotificationChannel.Webhook)
        {
            url = WebhookUrl(input.WebhookUrl, context.AllowHttpWebhooks, violations);
            if (input.WebhookSecret is { } secret)
            {
                violations.Text("webhookSecret", secret, SecretMaxLength, "The webhook secret");
                if (secret.Length < SecretMinLength)
                {
                    violations.Add("webhookSecret", "SecretTooShort", $"The webhook secret has at least {SecretMinLength} characters.");
                }
            }
            else if (!context.HasSecret)
            {
                violations.Add("webhookSecret", "Required", "The webhook secret is required: receivers check each message's signature with it.");
            }
        }
        if (violations.Any)
        {
            return (violations.Items, null);
        }
        return ([], new CheckedSubscription(input.Name!.Trim(), input.ProjectId, events, channel!.Value, addresses, url,
            channel == NotificationChannel.Webhook ? input.WebhookSecret : null, input.Enabled ?? true));
    }

    private static List<NotificationEventKind> Events(List<string>? names, RuleViolations violations)
    {
        var events = new List<NotificationEventKind>();
        if (names is not { Count: > 0 })
        {
            violations.Add("events", "Required", $"Name at least one event kind: {string.Join(", ", Enum.GetNames<NotificationEventKind>())}.");
            return events;
        }
        for (var i = 0; i < names.Count; i++)
        {
            if (names[i] is { } name && !int.TryParse(name, out _) && Enum.TryParse<NotificationEventKind>(name, ignoreCase: true, out var kind) && Enum.IsDefined(kind))
            {
                if (!events.Contains(kind))
                {
                    events.Add(kind);
                }
            }
            else
            {
                violations.Add($"events[{i}]", "UnknownEventKind", $"Not an event kind; the kinds are {string.Join(", ", Enum.GetNames<NotificationEventKind>())}.");
            }
        }
        return events;
    }

    private static List<string> Addresses(List<string>? given, RuleViolations violations)
    {
        var addresses = new List<string>();
        if (given is not { Count: > 0 })
        {
            violations.Add("emailAddresses", "Required", "An email subscription needs at least one address.");
            return addresses;
        }
        if (given.Count > MaxAddresses)
        {
            violations.Add("emailAddresses", "TooMany", $"At most {MaxAddresses} addresses; use a distribution list for more.");
            return addresses;
        }
        for (var i = 0; i < given.Count; i++)
        {
            var field = $"emailAddresses[{i}]";
            var address = given[i]?.Trim();
            if (string.IsNullOrEmpty(address))
            {
                violations.Add(field, "Required", "An address is empty.");
                continue;
            }
            var before = violations.Items.Count;
            violations.Text(field, address, AddressMaxLength, "The address");
            if (violations.Items.Count > before)
            {
                continue;
            }
            if (!IsAddress(address))
            {
                violations.Add(field, "InvalidEmailAddress", "Not an email address (name@example.com).");
                continue;
            }
            if (!addresses.Contains(address, StringComparer.OrdinalIgnoreCase))
            {
                addresses.Add(address);
            }
        }
        return addresses;
    }

    /// <summary>A bare address (no display name, no group), with a local part and a domain.</summary>
    public static bool IsAddress(string address) =>
        !address.Any(char.IsWhiteSpace) && !address.Contains('<', StringComparison.Ordinal) && !address.Contains(',', StringComparison.Ordinal)
        && MailboxAddress.TryParse(ParserOptions.Default, address, out var mailbox) && mailbox.Address == address
        && address.IndexOf('@', StringComparison.Ordinal) is > 0 and var at && at < address.Length - 1 && !address[(at + 1)..].Contains('@', StringComparison.Ordinal);

    private static string? WebhookUrl(string? value, bool allowHttp, RuleViolations violations)
    {
        const string field = "webhookUrl";
        if (!violations.Require(field, value, "The webhook URL"))
        {
            return null;
        }
        var url = value!.Trim();
        var before = violations.Items.Count;
        violations.Text(field, url, UrlMaxLength, "The webhook URL");
        if (violations.Items.Count > before)
        {
            return null;
        }
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http") || string.IsNullOrEmpty(uri.Host))
        {
            violations.Add(field, "InvalidUrl", "The webhook URL is an absolute https:// address.");
            return null;
        }
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            violations.Add(field, "CredentialsInUrl", "Put no user name or password in the URL: the signature authenticates each message.");
            return null;
        }
        if (uri.Scheme == "http" && !allowHttp && !IsLoopback(uri))
        {
            violations.Add(field, "HttpsRequired",
                "The webhook URL must use https (plain http only to this machine, or with Rehome:Notifications:AllowHttpWebhooks).");
            return null;
        }
        return uri.AbsoluteUri;
    }

    private static bool IsLoopback(Uri uri) =>
        uri.IsLoopback || (IPAddress.TryParse(uri.DnsSafeHost, out var address) && IPAddress.IsLoopback(address));
}
