using MimeKit;
using Rehome.Server.Hosting;

namespace Rehome.Server.Notifications;

public static class NotificationsServiceCollectionExtensions
{
    public static IServiceCollection AddRehomeNotifications(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSettings<NotificationOptions>(configuration, NotificationOptions.Section)
            .Validate(o => !o.Smtp.Configured || (o.Smtp.From is { } from && MailboxAddress.TryParse(from, out _)),
                $"{NotificationOptions.Section}:Smtp:From: a sender address (rehome@example.com) is required with an SMTP host.")
            .Validate(o => o.Smtp.Port is >= 1 and <= 65535, $"{NotificationOptions.Section}:Smtp:Port: between 1 and 65535.")
            .Validate(o => !o.Smtp.Configured || Uri.CheckHostName(o.Smtp.Host) != UriHostNameType.Unknown,
                $"{NotificationOptions.Section}:Smtp:Host: not a host name or address.")
            .Validate(o => o.ConsoleUrl is null || (Uri.TryCreate(o.ConsoleUrl, UriKind.Absolute, out var url) && url.Scheme is "https" or "http"),
                $"{NotificationOptions.Section}:ConsoleUrl: an absolute http(s) address, e.g. https://rehome.example.com.");
        services.AddScoped<NotificationOutbox>();
        services.AddScoped<NotificationDispatcher>();
        services.AddScoped<WebhookSender>();
        services.AddScoped<EmailSender>();
        // A webhook is called where its URL says, never where a redirect leads (an address inside the network, say).
        services.AddHttpClient(WebhookSender.ClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, UseProxy = true })
            .ConfigureHttpClient(c => c.Timeout = Timeout.InfiniteTimeSpan);
        services.AddHostedService<NotificationService>();
        return services;
    }
}
