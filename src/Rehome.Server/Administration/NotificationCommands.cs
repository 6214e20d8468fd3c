using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Rehome.Server.Audit;
using Rehome.Server.Notifications;
using Rehome.Server.Secrets;
using Rehome.Server.Store;

namespace Rehome.Server.Administration;

/// <summary>A subscription as the API and the console show it: its webhook secret only as "set".</summary>
public sealed record SubscriptionView(
    Guid Id, string Name, Guid? ProjectId, string? ProjectName, IReadOnlyList<string> Events, string Channel, IReadOnlyList<string> EmailAddresses,
    string? WebhookUrl, bool WebhookSecretSet, bool Enabled, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

public sealed record AttemptView(int Number, DateTimeOffset At, bool Succeeded, int? StatusCode, string? Error);

/// <summary>One message to a subscription and every attempt to deliver it.</summary>
public sealed record DeliveryView(
    Guid Id, string Status, bool IsTest, int EventCount, DateTimeOffset CreatedAt, DateTimeOffset WindowEndsAt, int Attempts,
    DateTimeOffset? NextAttemptAt, DateTimeOffset? DeliveredAt, int? LastStatusCode, string? LastError, IReadOnlyList<AttemptView> History);

/// <summary>Creates, changes and deletes notification subscriptions, sends test messages and reads delivery history: for the API, the console and the CLI.</summary>
public sealed class NotificationCommands(
    RehomeDbContext db, SecretProtector secrets, AuditTrail audit, TimeProvider time, IOptions<NotificationOptions> options, NotificationDispatcher dispatcher)
{
    public const int DeliveriesMaxLimit = 200;

    public async Task<IReadOnlyList<SubscriptionView>> ListAsync(CancellationToken ct)
    {
        var subscriptions = await db.NotificationSubscriptions.AsNoTracking().OrderBy(s => s.Name).ToListAsync(ct);
        var names = await ProjectNamesAsync(subscriptions.Select(s => s.ProjectId), ct);
        return [.. subscriptions.Select(s => View(s, names))];
    }

    public async Task<SubscriptionView?> GetAsync(Guid id, CancellationToken ct) =>
        await db.NotificationSubscriptions.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, ct) is { } subscription
            ? View(subscription, await ProjectNamesAsync([subscription.ProjectId], ct))
            : null;

    public async Task<Outcome<SubscriptionView>> CreateAsync(SubscriptionInput? input, CancellationToken ct)
    {
        var (violations, checkedInput) = SubscriptionRules.Validate(input, Context(hasSecret: false));
        if (violations.Count > 0)
        {
            return Failure.Validation(violations);
        }
        if (await RefuseAsync(checkedInput!, null, ct) is { } refusal)
        {
            return refusal;
        }
        var now = time.GetUtcNow();
        var subscription = new NotificationSubscription { Id = Guid.CreateVersion7(now), Name = checkedInput!.Name, CreatedAt = now };
        Apply(subscription, checkedInput, now);
        db.NotificationSubscriptions.Add(subscription);
        audit.Record("notification.subscription.create", $"subscription:{subscription.Id}", Describe(subscription));
        await db.SaveChangesAsync(ct);
        return View(subscription, await ProjectNamesAsync([subscription.ProjectId], ct));
    }

    public async Task<Outcome<SubscriptionView>> UpdateAsync(Guid id, SubscriptionInput? input, CancellationToken ct)
    {
        var subscription = await db.NotificationSubscriptions.FirstOrDefaultAsync(s => s.Id == id, ct);
        if (subscription is null)
        {
            return Failure.NotFound($"Subscription {id}");
        }
        // A saved secret is only ever sent to the URL it was saved for: a new URL needs the secret again.
        var sameUrl = Uri.TryCreate(input?.WebhookUrl?.Trim(), UriKind.Absolute, out var url) && url.AbsoluteUri == subscription.WebhookUrl;
        var (violations, checkedInput) = SubscriptionRules.Validate(input, Context(hasSecret: sameUrl && subscription.WebhookSecretProtected is not null));
        if (violations.Count > 0)
        {
            return Failure.Validation(violations);
        }
        if (await RefuseAsync(checkedInput!, id, ct) is { } refusal)
        {
            return refusal;
        }
        Apply(subscription, checkedInput!, time.GetUtcNow());
        audit.Record("notification.subscription.update", $"subscription:{id}", Describe(subscription));
        await db.SaveChangesAsync(ct);
        return View(subscription, await ProjectNamesAsync([subscription.ProjectId], ct));
    }

    public async Task<Outcome<bool>> DeleteAsync(Guid id, CancellationToken ct)
    {
        var subscription = await db.NotificationSubscriptions.FirstOrDefaultAsync(s => s.Id == id, ct);
        if (subscription is null)
        {
            return Failure.NotFound($"Subscription {id}");
        }
        db.NotificationSubscriptions.Remove(subscription);
        audit.Record("notification.subscription.delete", $"subscription:{id}", $"'{subscription.Name}'");
        await db.SaveChangesAsync(ct);
        return true;
    }

    /// <summary>Sends a test message at once (one attempt, no retries) and answers its delivery, as its history keeps it.</summary>
    public async Task<Outcome<DeliveryView>> SendTestAsync(Guid id, CancellationToken ct)
    {
        var subscription = await db.NotificationSubscriptions.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, ct);
        if (subscription is null)
        {
            return Failure.NotFound($"Subscription {id}");
        }
        var now = time.GetUtcNow();
        var delivery = new NotificationDelivery
        {
            Id = Guid.CreateVersion7(now),
            SubscriptionId = id,
            Status = DeliveryStatus.Pending,
            IsTest = true,
            CreatedAt = now,
            WindowEndsAt = now,
            NextAttemptAt = now,
        };
        delivery.Payload = NotificationComposer.Compose(delivery.Id, subscription.Name, [], options.Value.ListedEvents, options.Value.ConsoleUrl, test: true).ToJson();
        db.NotificationDeliveries.Add(delivery);
        audit.Record("notification.subscription.test", $"subscription:{id}", $"'{subscription.Name}'");
        await db.SaveChangesAsync(ct);
        db.ChangeTracker.Clear();
        await dispatcher.AttemptAsync(delivery.Id, ct);
        return (await DeliveriesOfAsync(id, 1, delivery.Id, ct))[0];
    }

    /// <summary>The subscription's latest deliveries (newest first), each with its attempts.</summary>
    public async Task<Outcome<IReadOnlyList<DeliveryView>>> DeliveriesAsync(Guid id, int? limit, CancellationToken ct)
    {
        if (limit is < 1 or > DeliveriesMaxLimit)
        {
            return Failure.Validation("limit", "OutOfRange", $"The limit is between 1 and {DeliveriesMaxLimit}.");
        }
        if (!await db.NotificationSubscriptions.AnyAsync(s => s.Id == id, ct))
        {
            return Failure.NotFound($"Subscription {id}");
        }
        return Outcome(await DeliveriesOfAsync(id, limit ?? 50, null, ct));
    }

    private static Outcome<IReadOnlyList<DeliveryView>> Outcome(IReadOnlyList<DeliveryView> views) => new(views, null);

    private async Task<IReadOnlyList<DeliveryView>> DeliveriesOfAsync(Guid subscriptionId, int limit, Guid? only, CancellationToken ct)
    {
        var deliveries = await db.NotificationDeliveries.AsNoTracking()
            .Where(d => d.SubscriptionId == subscriptionId && (only == null || d.Id == only))
            .OrderByDescending(d => d.CreatedAt).ThenByDescending(d => d.Id).Take(limit).ToListAsync(ct);
        var ids = deliveries.Select(d => d.Id).ToList();
        var attempts = (await db.NotificationAttempts.AsNoTracking().Where(a => ids.Contains(a.DeliveryId)).ToListAsync(ct))
            .ToLookup(a => a.DeliveryId);
        return [.. deliveries.Select(d => new DeliveryView(d.Id, d.Status.ToString(), d.IsTest, d.EventCount, d.CreatedAt, d.WindowEndsAt, d.Attempts,
            d.NextAttemptAt, d.DeliveredAt, d.LastStatusCode, d.LastError,
            [.. attempts[d.Id].OrderBy(a => a.Number).Select(a => new AttemptView(a.Number, a.At, a.Succeeded, a.StatusCode, a.Error))]))];
    }

    private SubscriptionRules.Context Context(bool hasSecret) =>
        new(hasSecret, options.Value.AllowHttpWebhooks, options.Value.Smtp.Configured);

    private async Task<Failure?> RefuseAsync(CheckedSubscription input, Guid? self, CancellationToken ct)
    {
        if (input.ProjectId is { } projectId && !await db.Projects.AnyAsync(p => p.Id == projectId, ct))
        {
            return Failure.Validation("projectId", "ProjectNotFound", "No such project; leave it out for every project.");
        }
        if (await db.NotificationSubscriptions.AnyAsync(s => s.Name == input.Name && s.Id != self, ct))
        {
            return Failure.Conflict("NameTaken", $"A subscription named '{input.Name}' already exists.");
        }
        return null;
    }

    private void Apply(NotificationSubscription subscription, CheckedSubscription input, DateTimeOffset now)
    {
        subscription.Name = input.Name;
        subscription.ProjectId = input.ProjectId;
        subscription.Events = input.Events;
        subscription.Channel = input.Channel;
        subscription.EmailAddresses = input.EmailAddresses;
        subscription.Enabled = input.Enabled;
        subscription.UpdatedAt = now;
        if (input.Channel == NotificationChannel.Webhook)
        {
            subscription.WebhookSecretProtected = secrets.ProtectOrKeep(input.WebhookSecret, subscription.WebhookSecretProtected);
            subscription.WebhookUrl = input.WebhookUrl;
        }
        else
        {
            subscription.WebhookUrl = null;
            subscription.WebhookSecretProtected = null;
        }
    }

    private static string Describe(NotificationSubscription s) =>
        $"'{s.Name}': {s.Channel} for {string.Join(", ", s.Events)}{(s.ProjectId is { } p ? $" of project {p}" : " of every project")}{(s.Enabled ? "" : " (disabled)")}";

    private async Task<Dictionary<Guid, string>> ProjectNamesAsync(IEnumerable<Guid?> ids, CancellationToken ct)
    {
        var wanted = ids.OfType<Guid>().Distinct().ToList();
        return wanted.Count == 0 ? [] : await db.Projects.AsNoTracking().Where(p => wanted.Contains(p.Id)).ToDictionaryAsync(p => p.Id, p => p.Name, ct);
    }

    private static SubscriptionView View(NotificationSubscription s, Dictionary<Guid, string> projectNames) => new(
        s.Id, s.Name, s.ProjectId, s.ProjectId is { } p ? projectNames.GetValueOrDefault(p) : null, [.. s.Events.Select(e => e.ToString())], s.Channel.ToString(),
        s.EmailAddresses, s.WebhookUrl, s.WebhookSecretProtected is not null, s.Enabled, s.CreatedAt, s.UpdatedAt);
}
