namespace Rehome.Server.Notifications;

/// <summary>What happened, as a subscription names it.</summary>
public enum NotificationEventKind
{
    /// <summary>Every job of a run is over: counts by status.</summary>
    RunFinished,

    /// <summary>A job ended Failed: its reason and what to do.</summary>
    JobFailed,

    /// <summary>An enrollment for a device that already has an agent (another key) waits for an administrator.</summary>
    DeviceAwaitingApproval,

    /// <summary>The destination directory could not be reached to prepare a job's computer; it is tried again.</summary>
    DestinationPreparationFailing,

    /// <summary>A connection test found a check failing.</summary>
    ConnectionTestFailed,

    /// <summary>A connection's bulk enrollment token expires soon (<see cref="NotificationOptions.TokenExpiryWarning"/>).</summary>
    BulkEnrollmentTokenExpiring,

    /// <summary>An agent stopped answering while it held a job (its lease lapsed), or its device was offline past the limit.</summary>
    AgentOfflineDuringRun,
}

public enum NotificationChannel
{
    Email,
    Webhook,
}

/// <summary>Where a batch of events stands.</summary>
public enum DeliveryStatus
{
    /// <summary>Events are added to it until its window ends.</summary>
    Collecting = 0,

    /// <summary>Its message is made and waits to be sent (again, after a failed attempt).</summary>
    Pending = 1,

    Delivered = 2,

    /// <summary>Every attempt failed.</summary>
    Failed = 3,

    /// <summary>The receiver answered 410 Gone: no more attempts.</summary>
    Stopped = 4,
}

/// <summary>An administrator's wish to hear of some kinds of events, of one project or all, by email or webhook.</summary>
public sealed class NotificationSubscription
{
    public Guid Id { get; set; }

    public required string Name { get; set; }

    /// <summary>The project whose events it hears of; null for every project (and events of no project).</summary>
    public Guid? ProjectId { get; set; }

    public List<NotificationEventKind> Events { get; set; } = [];

    public NotificationChannel Channel { get; set; }

    /// <summary>The recipients of an email subscription.</summary>
    public List<string> EmailAddresses { get; set; } = [];

    public string? WebhookUrl { get; set; }

    /// <summary>The webhook's HMAC secret, encrypted (<see cref="Secrets.SecretProtector"/>); never shown back.</summary>
    public string? WebhookSecretProtected { get; set; }

    public bool Enabled { get; set; } = true;

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public bool Hears(NotificationEventKind kind, Guid? projectId) =>
        Enabled && Events.Contains(kind) && (ProjectId is null || ProjectId == projectId);
}

/// <summary>
/// The outbox: one row per event, written where the event happens (in its transaction when it has one), and
/// distributed to the subscriptions that hear of it by the dispatcher.
/// </summary>
public sealed class NotificationEvent
{
    public long Id { get; set; }

    public NotificationEventKind Kind { get; set; }

    public Guid? ProjectId { get; set; }

    public DateTimeOffset OccurredAt { get; set; }

    /// <summary>The event's details (<see cref="NotificationEventData"/>) as JSON.</summary>
    public required string Data { get; set; }

    /// <summary>Added to the deliveries of every subscription that hears of it.</summary>
    public bool Distributed { get; set; }
}

/// <summary>What one event says, for the message; everything in it may come from outside and is escaped where shown.</summary>
public sealed record NotificationEventData(
    string Summary,
    string? ProjectName = null,
    Guid? RunId = null,
    Guid? JobId = null,
    string? Device = null,
    string? JobKind = null,
    string? Reason = null,
    string? Message = null,
    string? Advice = null,
    string? Connection = null,
    IReadOnlyDictionary<string, int>? Counts = null);

/// <summary>One message to one subscription: the events of one window, and its attempts to be delivered.</summary>
public sealed class NotificationDelivery
{
    public Guid Id { get; set; }

    public Guid SubscriptionId { get; set; }

    public DeliveryStatus Status { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When it stops collecting and its message is made.</summary>
    public DateTimeOffset WindowEndsAt { get; set; }

    public int EventCount { get; set; }

    /// <summary>The message (the webhook's JSON body; the email is written from it), made once so every attempt sends the same.</summary>
    public string? Payload { get; set; }

    /// <summary>A test message sent from the API or the console.</summary>
    public bool IsTest { get; set; }

    /// <summary>When it is due; while a replica sends it, until when that replica holds it.</summary>
    public DateTimeOffset? NextAttemptAt { get; set; }

    public int Attempts { get; set; }

    public DateTimeOffset? DeliveredAt { get; set; }

    public int? LastStatusCode { get; set; }

    public string? LastError { get; set; }
}

/// <summary>Which events a delivery carries.</summary>
public sealed class NotificationDeliveryEvent
{
    public Guid DeliveryId { get; set; }

    public long EventId { get; set; }
}

/// <summary>One try to deliver: the delivery history.</summary>
public sealed class NotificationAttempt
{
    public long Id { get; set; }

    public Guid DeliveryId { get; set; }

    public int Number { get; set; }

    public DateTimeOffset At { get; set; }

    public bool Succeeded { get; set; }

    /// <summary>The receiver's HTTP status (webhooks) or SMTP reply code (email), when it answered.</summary>
    public int? StatusCode { get; set; }

    public string? Error { get; set; }
}

/// <summary>An event that is told once (a run finished, a token's coming expiry): its key, once recorded.</summary>
public sealed class NotificationMark
{
    public required string Key { get; set; }

    /// <summary>The run a run-finished mark is about, so that the sweep finds unmarked runs by index.</summary>
    public Guid? RunId { get; set; }

    public DateTimeOffset At { get; set; }
}
