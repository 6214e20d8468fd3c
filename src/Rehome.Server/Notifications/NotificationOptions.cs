using System.ComponentModel.DataAnnotations;
using MailKit.Security;

namespace Rehome.Server.Notifications;

/// <summary>How notifications are batched and delivered. Bound from <c>Rehome:Notifications</c>.</summary>
public sealed class NotificationOptions
{
    public const string Section = "Rehome:Notifications";

    /// <summary>Whether this server dispatches notifications (every replica may: rows are claimed); tests turn it off and drive it.</summary>
    public bool Background { get; set; } = true;

    /// <summary>How often the dispatcher distributes events, closes windows and sends what is due.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan DispatchInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Everything one subscription hears of within this window (from its first event) becomes one message.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan BatchWindow { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How many events a message lists one by one; the rest are counted ("and 4,950 more").</summary>
    [Range(1, 1000)]
    public int ListedEvents { get; set; } = 20;

    /// <summary>Attempts to deliver one message before it is given up as Failed.</summary>
    [Range(1, 20)]
    public int MaxAttempts { get; set; } = 5;

    /// <summary>The wait after the first failed attempt; it doubles after each (with up to a tenth of jitter), so 5 attempts span about an hour.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan RetryInitialDelay { get; set; } = TimeSpan.FromMinutes(4);

    /// <summary>How long one webhook call or SMTP conversation may take.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:02:00")]
    public TimeSpan DeliveryTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Webhooks over plain http to hosts other than loopback (otherwise https only).</summary>
    public bool AllowHttpWebhooks { get; set; }

    /// <summary>A bulk enrollment token expiring within this is told once (per connection and expiry).</summary>
    [Range(typeof(TimeSpan), "1.00:00:00", "90.00:00:00")]
    public TimeSpan TokenExpiryWarning { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// How long delivered, failed and stopped messages (with their attempts) and the events they carried are kept: the
    /// dispatcher deletes older ones once an hour.
    /// </summary>
    [Range(typeof(TimeSpan), "1.00:00:00", "3650.00:00:00")]
    public TimeSpan HistoryRetention { get; set; } = TimeSpan.FromDays(90);

    /// <summary>The console's address as people reach it (e.g. <c>https://rehome.example.com</c>), for links in messages.</summary>
    [Url]
    public string? ConsoleUrl { get; set; }

    public SmtpOptions Smtp { get; set; } = new();
}

/// <summary>The SMTP server email notifications go through. Bound from <c>Rehome:Notifications:Smtp</c>.</summary>
public sealed class SmtpOptions
{
    /// <summary>No host: email subscriptions are refused (and none are sent).</summary>
    public string? Host { get; set; }

    [Range(1, 65535)]
    public int Port { get; set; } = 587;

    /// <summary><c>StartTls</c> (default), <c>SslOnConnect</c>, or <c>None</c> (plain text: only when set explicitly).</summary>
    public SmtpSecurity Security { get; set; } = SmtpSecurity.StartTls;

    public string? UserName { get; set; }

    public string? Password { get; set; }

    /// <summary>The sender, e.g. <c>Rehome &lt;rehome@example.com&gt;</c>; required with a host.</summary>
    public string? From { get; set; }

    public bool Configured => !string.IsNullOrWhiteSpace(Host);

    internal SecureSocketOptions SocketOptions => Security switch
    {
        SmtpSecurity.SslOnConnect => SecureSocketOptions.SslOnConnect,
        SmtpSecurity.None => SecureSocketOptions.None,
        _ => SecureSocketOptions.StartTls,
    };
}

public enum SmtpSecurity
{
    StartTls,
    SslOnConnect,
    None,
}
