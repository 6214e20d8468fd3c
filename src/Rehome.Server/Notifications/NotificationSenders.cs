using System.Net.Http.Headers;
using System.Text;
using MailKit.Net.Smtp;
using Microsoft.Extensions.Options;
using MimeKit;
using Rehome.Core.Validation;

namespace Rehome.Server.Notifications;

/// <summary>How one attempt went: delivered, or why not, and whether to try again.</summary>
public sealed record AttemptResult(bool Delivered, bool Stop, int? StatusCode, string? Error)
{
    public const int ErrorMaxLength = 1000;

    public static AttemptResult Failed(int? statusCode, string error) => new(false, false, statusCode, TextRules.Fit(error, ErrorMaxLength));
}

/// <summary>POSTs a message to a webhook, signed; 2xx is delivered, 410 stops, anything else is tried again.</summary>
public sealed class WebhookSender(IHttpClientFactory clients, IOptions<NotificationOptions> options, TimeProvider time)
{
    public const string ClientName = "Rehome.Notifications.Webhooks";

    public async Task<AttemptResult> SendAsync(string url, string secret, Guid deliveryId, string body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add(WebhookSignature.Header, WebhookSignature.Sign(secret, time.GetUtcNow(), body));
        request.Headers.Add(WebhookSignature.DeliveryHeader, deliveryId.ToString());
        request.Headers.UserAgent.Add(new ProductInfoHeaderValue("Rehome", "1"));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.Value.DeliveryTimeout);
        try
        {
            using var response = await clients.CreateClient(ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var status = (int)response.StatusCode;
            return status switch
            {
                >= 200 and < 300 => new AttemptResult(true, false, status, null),
                410 => new AttemptResult(false, true, status, "The receiver answered 410 Gone: no more attempts."),
                _ => AttemptResult.Failed(status, $"The receiver answered {status} {response.ReasonPhrase}."),
            };
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return AttemptResult.Failed(null, $"No answer within {options.Value.DeliveryTimeout.TotalSeconds:0} s.");
        }
        catch (HttpRequestException e)
        {
            return AttemptResult.Failed(null, e.Message);
        }
    }
}

/// <summary>Sends a message by email through the configured SMTP server (MailKit): plain text and simple HTML.</summary>
public sealed class EmailSender(IOptions<NotificationOptions> options)
{
    public async Task<AttemptResult> SendAsync(IReadOnlyList<string> recipients, NotificationMessage message, CancellationToken ct)
    {
        var smtp = options.Value.Smtp;
        if (!smtp.Configured)
        {
            return AttemptResult.Failed(null, "No SMTP server is set (Rehome:Notifications:Smtp:Host).");
        }
        var mail = new MimeMessage();
        mail.From.Add(MailboxAddress.Parse(smtp.From!));
        foreach (var recipient in recipients)
        {
            mail.To.Add(MailboxAddress.Parse(recipient));
        }
        mail.Subject = NotificationComposer.Subject(message);
        mail.MessageId = MimeKit.Utils.MimeUtils.GenerateMessageId();
        mail.Headers.Add("X-Rehome-Delivery", message.Id.ToString());
        mail.Body = new BodyBuilder { TextBody = NotificationComposer.Text(message), HtmlBody = NotificationComposer.Html(message) }.ToMessageBody();
        using var client = new SmtpClient { Timeout = (int)options.Value.DeliveryTimeout.TotalMilliseconds };
        try
        {
            await client.ConnectAsync(smtp.Host!, smtp.Port, smtp.SocketOptions, ct);
            if (!string.IsNullOrEmpty(smtp.UserName))
            {
                await client.AuthenticateAsync(smtp.UserName, smtp.Password ?? "", ct);
            }
            await client.SendAsync(mail, ct);
            await client.DisconnectAsync(quit: true, ct);
            return new AttemptResult(true, false, 250, null);
        }
        catch (SmtpCommandException e)
        {
            return AttemptResult.Failed((int)e.StatusCode, $"The SMTP server refused: {e.Message}");
        }
        catch (Exception e) when (e is SmtpProtocolException or MailKit.Security.AuthenticationException or IOException
            or System.Net.Sockets.SocketException or TimeoutException or MailKit.Security.SslHandshakeException)
        {
            return AttemptResult.Failed(null, e.Message);
        }
    }
}
