using Rehome.Server.Administration;
using Rehome.Server.Auth;
using Rehome.Server.Notifications;

namespace Rehome.Server.Api;

/// <summary>/api/v1/notifications: subscriptions to events, test messages, delivery history. Administrators only.</summary>
public static class NotificationsApi
{
    public static RouteGroupBuilder MapNotificationsApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/notifications/subscriptions").WithTags("Notifications");
        group.MapGet("/", async (NotificationCommands commands, CancellationToken ct) => Results.Ok(await commands.ListAsync(ct)))
            .WithName("ListSubscriptions").RequireRole(Role.Administrator);
        group.MapGet("/{id:guid}", async (Guid id, NotificationCommands commands, CancellationToken ct) =>
            await commands.GetAsync(id, ct) is { } subscription ? Results.Ok(subscription) : Problems.NotFound($"Subscription {id}"))
            .WithName("GetSubscription").RequireRole(Role.Administrator);
        group.MapPost("/", async (SubscriptionInput input, NotificationCommands commands, CancellationToken ct) =>
            (await commands.CreateAsync(input, ct)).ToResult(created => Results.Created($"/api/v1/notifications/subscriptions/{created.Id}", created)))
            .WithName("CreateSubscription").RequireRole(Role.Administrator)
            .WithSummary("Subscribes an email list or a webhook to kinds of events, of one project or all.");
        group.MapPut("/{id:guid}", async (Guid id, SubscriptionInput input, NotificationCommands commands, CancellationToken ct) =>
            (await commands.UpdateAsync(id, input, ct)).ToResult(v => Results.Ok(v)))
            .WithName("UpdateSubscription").RequireRole(Role.Administrator)
            .WithSummary("Changes a subscription; a webhook secret left out is kept (unless the URL changes).");
        group.MapDelete("/{id:guid}", async (Guid id, NotificationCommands commands, CancellationToken ct) =>
            (await commands.DeleteAsync(id, ct)).ToResult(_ => Results.NoContent()))
            .WithName("DeleteSubscription").RequireRole(Role.Administrator);
        group.MapPost("/{id:guid}/test", async (Guid id, NotificationCommands commands, CancellationToken ct) =>
            (await commands.SendTestAsync(id, ct)).ToResult(v => Results.Ok(v)))
            .WithName("SendTestNotification").RequireRole(Role.Administrator)
            .WithSummary("Sends a test message now (one attempt) and answers how it went.");
        group.MapGet("/{id:guid}/deliveries", async (Guid id, int? limit, NotificationCommands commands, CancellationToken ct) =>
            (await commands.DeliveriesAsync(id, limit, ct)).ToResult(v => Results.Ok(v)))
            .WithName("ListDeliveries").RequireRole(Role.Administrator)
            .WithSummary("The subscription's latest messages, newest first, each with every attempt (status code, error, when).");
        return api;
    }
}
