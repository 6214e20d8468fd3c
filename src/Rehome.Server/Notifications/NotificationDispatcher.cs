using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Rehome.Core.Runs;
using Rehome.Server.Runs;
using Rehome.Server.Secrets;
using Rehome.Server.Store;

namespace Rehome.Server.Notifications;

/// <summary>What one dispatch did.</summary>
public sealed record DispatchResult(int Recorded, int Distributed, int Closed, int Attempted, int Pruned = 0);

/// <summary>
/// Turns the outbox into messages, safely on several replicas at once: events are distributed to the
/// subscriptions that hear of them under row locks (PostgreSQL skips rows another replica holds), one collecting
/// delivery per subscription (a unique index), a window closed by one conditional UPDATE, and a due delivery
/// claimed by one conditional UPDATE of its due time before it is sent. SQLite has one writer at a time.
/// </summary>
public sealed class NotificationDispatcher(
    RehomeDbContext db, StoreCommands store, NotificationOutbox outbox, IOptions<NotificationOptions> options, TimeProvider time,
    SecretProtector secrets, WebhookSender webhooks, EmailSender email, ILogger<NotificationDispatcher> logger)
{
    private NotificationOptions Options => options.Value;

    private SqlDialect Dialect => store.Dialect;

    /// <summary>
    /// One pass: record what is found by looking (runs over, tokens near expiry), distribute, close windows, send what is
    /// due, and (once an hour) forget history older than <see cref="NotificationOptions.HistoryRetention"/>.
    /// </summary>
    public async Task<DispatchResult> RunOnceAsync(CancellationToken ct)
    {
        var recorded = await RecordFinishedRunsAsync(ct) + await RecordExpiringTokensAsync(ct);
        var distributed = 0;
        for (int batch; (batch = await DistributeAsync(ct)) > 0;)
        {
            distributed += batch;
        }
        var closed = await CloseWindowsAsync(ct);
        var attempted = await SendDueAsync(ct);
        var pruned = await PruneAsync(ct);
        return new DispatchResult(recorded, distributed, closed, attempted, pruned);
    }

    /// <summary>
    /// Deletes the messages that are over (delivered, failed, stopped) and older than the retention, with their attempts,
    /// and the distributed events no message carries any more. Once an hour, by one replica: the hour's mark says who.
    /// Marks of runs and tokens stay (a run's mark is what keeps it from being told twice); the hourly marks go too.
    /// </summary>
    private async Task<int> PruneAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        if (!await MarkAsync($"{PruneMark}{now.UtcDateTime:yyyyMMddHH}", null, ct))
        {
            await transaction.RollbackAsync(ct);
            return 0;
        }
        var cutoff = ("cutoff", Dialect.Time(now - Options.HistoryRetention));
        var over = $"""
            SELECT id FROM notification_deliveries
            WHERE status IN ({(int)DeliveryStatus.Delivered}, {(int)DeliveryStatus.Failed}, {(int)DeliveryStatus.Stopped}) AND created_at < @cutoff
            """;
        await store.ExecuteAsync($"DELETE FROM notification_attempts WHERE delivery_id IN ({over})", ct, cutoff);
        await store.ExecuteAsync($"DELETE FROM notification_delivery_events WHERE delivery_id IN ({over})", ct, cutoff);
        var pruned = await store.ExecuteAsync($"DELETE FROM notification_deliveries WHERE id IN ({over})", ct, cutoff);
        pruned += await store.ExecuteAsync("""
            DELETE FROM notification_events
            WHERE distributed = @yes AND occurred_at < @cutoff
              AND NOT EXISTS (SELECT 1 FROM notification_delivery_events l WHERE l.event_id = notification_events.id)
            """, ct, cutoff, ("yes", true));
        await store.ExecuteAsync($"DELETE FROM notification_marks WHERE key LIKE '{PruneMark}%' AND at < @cutoff", ct, cutoff);
        await transaction.CommitAsync(ct);
        return pruned;
    }

    private const string PruneMark = "prune:";

    /// <summary>
    /// Runs whose every job is over, each told once. Found by looking rather than where the last job ends: the last two
    /// jobs of a run may end at once on two replicas, each transaction not seeing the other's.
    /// </summary>
    private async Task<int> RecordFinishedRunsAsync(CancellationToken ct)
    {
        var hearing = await db.NotificationSubscriptions.AsNoTracking().Where(s => s.Enabled).ToListAsync(ct);
        hearing = [.. hearing.Where(s => s.Events.Contains(NotificationEventKind.RunFinished))];
        if (hearing.Count == 0)
        {
            return 0;
        }
        // Runs released before anyone subscribed are not told.
        var since = hearing.Min(s => s.CreatedAt);
        var active = JobStatuses.Active.ToList();
        var runs = await db.Runs.AsNoTracking()
            .Where(r => r.ReleasedAt != null && r.ReleasedAt >= since && !db.NotificationMarks.Any(m => m.RunId == r.Id)
                // A run item's jobs are all waiting: rows and items asked separately (SQLite pushes no correlated condition into all_jobs).
                && !db.StoredJobs.Any(j => j.RunId == r.Id && active.Contains(j.Status)) && !db.RunItems.Any(i => i.RunId == r.Id))
            .Select(r => new { r.Id, r.ProjectId, r.Kinds, r.DryRun, ProjectName = db.Projects.Where(p => p.Id == r.ProjectId).Select(p => p.Name).FirstOrDefault() })
            .Take(100)
            .ToListAsync(ct);
        var recorded = 0;
        foreach (var run in runs)
        {
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            if (!await MarkAsync($"run:{run.Id}", run.Id, ct))
            {
                await transaction.RollbackRegardlessAsync();
                continue;
            }
            var counts = (await RunJobCounts.OfRunAsync(store, run.Id, ct)).GroupBy(c => c.Status)
                .OrderBy(g => g.Key).ToDictionary(g => g.Key.DisplayName(), g => g.Sum(c => c.Count));
            var failed = counts.GetValueOrDefault(JobStatus.Failed.DisplayName()) + counts.GetValueOrDefault(JobStatus.Stopped.DisplayName());
            await outbox.RecordAsync(NotificationEventKind.RunFinished, run.ProjectId, new NotificationEventData(
                $"{(run.DryRun ? "Dry run" : "Run")} of {run.Kinds.Replace(",", ", ", StringComparison.Ordinal)} finished", run.ProjectName, run.Id,
                Reason: failed > 0 ? "FinishedWithFailures" : "Finished", Counts: counts,
                Advice: failed > 0 ? "Open the project's mappings filtered by Failed to see each reason; re-run the failed jobs once fixed." : null), ct);
            await transaction.CommitRegardlessAsync();
            recorded++;
        }
        return recorded;
    }

    /// <summary>Bulk enrollment tokens that expire within <see cref="NotificationOptions.TokenExpiryWarning"/>: once per connection and expiry.</summary>
    private async Task<int> RecordExpiringTokensAsync(CancellationToken ct)
    {
        var horizon = time.GetUtcNow() + Options.TokenExpiryWarning;
        var expiring = await db.Connections.AsNoTracking()
            .Where(c => c.BulkEnrollmentTokenExpiresAt != null && c.BulkEnrollmentTokenExpiresAt <= horizon)
            .Select(c => new { c.Id, c.Name, ExpiresAt = c.BulkEnrollmentTokenExpiresAt!.Value })
            .ToListAsync(ct);
        var recorded = 0;
        foreach (var connection in expiring)
        {
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            if (!await MarkAsync($"token:{connection.Id}:{connection.ExpiresAt.ToUnixTimeSeconds()}", null, ct))
            {
                await transaction.RollbackRegardlessAsync();
                continue;
            }
            var data = new NotificationEventData($"The bulk enrollment token of {connection.Name} expires {connection.ExpiresAt.ToUniversalTime():yyyy-MM-dd HH:mm} UTC",
                Connection: connection.Name, Reason: "BulkEnrollmentTokenExpiring",
                Advice: "Make a new provisioning package (with a new bulk token) in Windows Configuration Designer and upload it to the connection.");
            await outbox.ForProjectsOfConnectionAsync(connection.Id, NotificationEventKind.BulkEnrollmentTokenExpiring, data,
                (k, p, d) => outbox.RecordAsync(k, p, d, ct), ct);
            await transaction.CommitRegardlessAsync();
            recorded++;
        }
        return recorded;
    }

    /// <summary>Records that a once-only event was told; false when it already was (by this or another replica).</summary>
    private async Task<bool> MarkAsync(string key, Guid? runId, CancellationToken ct) =>
        await store.ExecuteAsync("INSERT INTO notification_marks (key, run_id, at) VALUES (@key, @run, @at) ON CONFLICT DO NOTHING", ct,
            ("key", key), ("run", runId), ("at", Dialect.Time(time.GetUtcNow()))) == 1;

    /// <summary>Adds up to 500 undistributed events to the collecting delivery of each subscription that hears of them.</summary>
    private async Task<int> DistributeAsync(CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var ids = await store.QueryAsync($"SELECT id FROM notification_events WHERE distributed = @no ORDER BY id LIMIT 500 {Dialect.SkipLocked}",
            r => r.GetInt64(0), ct, ("no", false));
        if (ids.Count == 0)
        {
            await transaction.RollbackRegardlessAsync();
            return 0;
        }
        var events = await db.NotificationEvents.AsNoTracking().Where(e => ids.Contains(e.Id)).OrderBy(e => e.Id).ToListAsync(ct);
        var subscriptions = await db.NotificationSubscriptions.AsNoTracking().Where(s => s.Enabled).ToListAsync(ct);
        var now = time.GetUtcNow();
        foreach (var subscription in subscriptions)
        {
            var heard = events.Where(e => subscription.Hears(e.Kind, e.ProjectId)).ToList();
            if (heard.Count == 0)
            {
                continue;
            }
            var deliveryId = await CollectingDeliveryAsync(subscription.Id, heard.Count, now, ct);
            db.NotificationDeliveryEvents.AddRange(heard.Select(e => new NotificationDeliveryEvent { DeliveryId = deliveryId, EventId = e.Id }));
        }
        await db.SaveChangesAsync(ct);
        await db.NotificationEvents.Where(e => ids.Contains(e.Id)).ExecuteUpdateAsync(s => s.SetProperty(e => e.Distributed, true), ct);
        await transaction.CommitRegardlessAsync();
        return ids.Count;
    }

    /// <summary>
    /// The subscription's collecting delivery, locked by the UPDATE so that its window cannot close under this
    /// transaction; a new one (its window starting now) when it has none. Two replicas creating one at once: the
    /// unique index refuses the second, whose events wait for the next pass.
    /// </summary>
    private async Task<Guid> CollectingDeliveryAsync(Guid subscriptionId, int count, DateTimeOffset now, CancellationToken ct)
    {
        var existing = await store.QueryAsync($"""
            UPDATE notification_deliveries SET event_count = event_count + @count
            WHERE subscription_id = @subscription AND status = {(int)DeliveryStatus.Collecting}
            RETURNING id
            """, r => Dialect.ReadGuid(r, 0), ct, ("count", count), ("subscription", subscriptionId));
        if (existing is [var id])
        {
            return id;
        }
        var delivery = new NotificationDelivery
        {
            Id = Guid.CreateVersion7(now),
            SubscriptionId = subscriptionId,
            Status = DeliveryStatus.Collecting,
            CreatedAt = now,
            WindowEndsAt = now + Options.BatchWindow,
            EventCount = count,
        };
        db.NotificationDeliveries.Add(delivery);
        return delivery.Id;
    }

    /// <summary>Makes the message of each delivery whose window ended; it is due at once.</summary>
    private async Task<int> CloseWindowsAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var due = await db.NotificationDeliveries.AsNoTracking()
            .Where(d => d.Status == DeliveryStatus.Collecting && d.WindowEndsAt <= now)
            .OrderBy(d => d.WindowEndsAt)
            .Select(d => new { d.Id, SubscriptionName = db.NotificationSubscriptions.Where(s => s.Id == d.SubscriptionId).Select(s => s.Name).First() })
            .Take(50)
            .ToListAsync(ct);
        var closed = 0;
        foreach (var delivery in due)
        {
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            var moved = await store.ExecuteAsync($"""
                UPDATE notification_deliveries SET status = {(int)DeliveryStatus.Pending}, next_attempt_at = @now
                WHERE id = @id AND status = {(int)DeliveryStatus.Collecting}
                """, ct, ("now", Dialect.Time(now)), ("id", delivery.Id));
            if (moved == 0)
            {
                await transaction.RollbackRegardlessAsync();
                continue;
            }
            var events = await (from l in db.NotificationDeliveryEvents.AsNoTracking()
                                where l.DeliveryId == delivery.Id
                                join e in db.NotificationEvents on l.EventId equals e.Id
                                orderby e.Id
                                select e).ToListAsync(ct);
            var listed = events.Select(e => new ListedEvent(e.Kind, e.OccurredAt, e.ProjectId,
                System.Text.Json.JsonSerializer.Deserialize<NotificationEventData>(e.Data, NotificationMessage.Json)!)).ToList();
            var message = NotificationComposer.Compose(delivery.Id, delivery.SubscriptionName, listed, Options.ListedEvents, Options.ConsoleUrl);
            await db.NotificationDeliveries.Where(d => d.Id == delivery.Id).ExecuteUpdateAsync(s => s
                .SetProperty(d => d.Payload, message.ToJson()).SetProperty(d => d.EventCount, events.Count), ct);
            await transaction.CommitRegardlessAsync();
            closed++;
        }
        return closed;
    }

    /// <summary>Sends the deliveries that are due, each claimed first so that one replica sends it.</summary>
    private async Task<int> SendDueAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var due = await db.NotificationDeliveries.AsNoTracking()
            .Where(d => d.Status == DeliveryStatus.Pending && d.NextAttemptAt <= now)
            .OrderBy(d => d.NextAttemptAt).Select(d => d.Id).Take(20).ToListAsync(ct);
        var attempted = 0;
        foreach (var id in due)
        {
            if (await AttemptAsync(id, ct) is not null)
            {
                attempted++;
            }
        }
        return attempted;
    }

    /// <summary>
    /// One attempt at a pending, due delivery: claimed by moving its due time past the attempt, sent, and recorded in
    /// its history. Null when another replica holds it (or it is not due).
    /// </summary>
    public async Task<AttemptResult?> AttemptAsync(Guid deliveryId, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        int claimed;
        await using (var transaction = await db.Database.BeginTransactionAsync(ct))
        {
            claimed = await store.ExecuteAsync($"""
            UPDATE notification_deliveries SET next_attempt_at = @claim
            WHERE id = @id AND status = {(int)DeliveryStatus.Pending} AND next_attempt_at <= @now
            """, ct, ("claim", Dialect.Time(now + 3 * Options.DeliveryTimeout)), ("id", deliveryId), ("now", Dialect.Time(now)));
            await transaction.CommitRegardlessAsync();
        }
        if (claimed == 0)
        {
            return null;
        }
        var delivery = await db.NotificationDeliveries.FirstAsync(d => d.Id == deliveryId, ct);
        var subscription = await db.NotificationSubscriptions.AsNoTracking().FirstAsync(s => s.Id == delivery.SubscriptionId, ct);
        var result = await SendAsync(subscription, delivery, ct);
        var at = time.GetUtcNow();
        delivery.Attempts++;
        db.NotificationAttempts.Add(new NotificationAttempt
        {
            DeliveryId = delivery.Id,
            Number = delivery.Attempts,
            At = at,
            Succeeded = result.Delivered,
            StatusCode = result.StatusCode,
            Error = result.Error,
        });
        delivery.LastStatusCode = result.StatusCode;
        delivery.LastError = result.Error;
        if (result.Delivered)
        {
            delivery.Status = DeliveryStatus.Delivered;
            delivery.DeliveredAt = at;
            delivery.NextAttemptAt = null;
        }
        else if (result.Stop)
        {
            delivery.Status = DeliveryStatus.Stopped;
            delivery.NextAttemptAt = null;
        }
        else if (delivery.IsTest || delivery.Attempts >= Options.MaxAttempts)
        {
            delivery.Status = DeliveryStatus.Failed;
            delivery.NextAttemptAt = null;
        }
        else
        {
            delivery.NextAttemptAt = at + RetryDelay(delivery.Attempts, Options.RetryInitialDelay, Random.Shared.NextDouble());
        }
        await db.SaveChangesAsync(ct);
        if (!result.Delivered)
        {
            logger.LogWarning("Notification delivery {DeliveryId} of subscription {SubscriptionId}, attempt {Attempt}: {Status}; {Error}",
                delivery.Id, subscription.Id, delivery.Attempts, delivery.Status, result.Error);
        }
        return result;
    }

    /// <summary>The wait after failed attempt <paramref name="attempts"/>: the initial delay doubled each time, plus up to a tenth of jitter.</summary>
    public static TimeSpan RetryDelay(int attempts, TimeSpan initial, double jitter)
    {
        var delay = initial * Math.Pow(2, Math.Clamp(attempts - 1, 0, 16));
        return delay + delay * (0.1 * Math.Clamp(jitter, 0, 1));
    }

    private async Task<AttemptResult> SendAsync(NotificationSubscription subscription, NotificationDelivery delivery, CancellationToken ct)
    {
        if (delivery.Payload is null)
        {
            return AttemptResult.Failed(null, "The message was not made.");
        }
        if (subscription.Channel == NotificationChannel.Webhook)
        {
            if (subscription.WebhookUrl is null || subscription.WebhookSecretProtected is null)
            {
                return AttemptResult.Failed(null, "The subscription has no webhook URL or secret.");
            }
            return await webhooks.SendAsync(subscription.WebhookUrl, secrets.Unprotect(subscription.WebhookSecretProtected), delivery.Id, delivery.Payload, ct);
        }
        return await email.SendAsync(subscription.EmailAddresses, NotificationMessage.FromJson(delivery.Payload), ct);
    }
}
