using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Rehome.Core.Validation;

namespace Rehome.Server.Notifications;

/// <summary>One event as a message lists it.</summary>
public sealed record ListedEvent(NotificationEventKind Kind, DateTimeOffset OccurredAt, Guid? ProjectId, NotificationEventData Details);

/// <summary>The project a message is about; null when its events are of several projects or none.</summary>
public sealed record MessageProject(Guid Id, string? Name);

/// <summary>
/// One message to one subscription: the events of one window, counted by kind and by reason, the first few
/// listed. This is the webhook's JSON body as it is sent; the email is written from it.
/// </summary>
public sealed record NotificationMessage(
    Guid Id, string Kind, MessageProject? Project, DateTimeOffset OccurredAt, string Subscription, int Total, int Omitted,
    IReadOnlyDictionary<string, int> CountsByKind, IReadOnlyDictionary<string, int> CountsByReason, string? Link,
    IReadOnlyList<ListedEvent> Events, bool Test = false)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static NotificationMessage FromJson(string json) => JsonSerializer.Deserialize<NotificationMessage>(json, Json)!;
}

/// <summary>Makes a window's message from its events, and words it for email. Pure: the same events make the same message.</summary>
public static class NotificationComposer
{
    public const string SeveralKinds = "Several";

    /// <summary>
    /// The message of a window's <paramref name="events"/> (oldest first): the first <paramref name="listed"/> listed
    /// one by one, a link when the console's address is known.
    /// </summary>
    public static NotificationMessage Compose(
        Guid id, string subscription, IReadOnlyList<ListedEvent> events, int listed, string? consoleUrl, bool test = false)
    {
        ArgumentNullException.ThrowIfNull(events);
        var kinds = events.Select(e => e.Kind).Distinct().ToList();
        var projects = events.Select(e => e.ProjectId).Distinct().ToList();
        MessageProject? project = projects is [{ } only] ? new MessageProject(only, events.First().Details.ProjectName) : null;
        var byKind = events.GroupBy(e => e.Kind.ToString()).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count());
        var byReason = events.Where(e => e.Details.Reason is not null)
            .GroupBy(e => e.Details.Reason!).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count());
        return new NotificationMessage(id, kinds is [var kind] ? kind.ToString() : SeveralKinds, project,
            events.Count > 0 ? events[^1].OccurredAt : default, subscription, events.Count, Math.Max(0, events.Count - listed), byKind, byReason,
            Link(consoleUrl, project, kinds), [.. events.Take(listed)], test);
    }

    private static string? Link(string? consoleUrl, MessageProject? project, List<NotificationEventKind> kinds)
    {
        if (string.IsNullOrWhiteSpace(consoleUrl))
        {
            return null;
        }
        var root = consoleUrl.TrimEnd('/');
        return kinds switch
        {
            [NotificationEventKind.DeviceAwaitingApproval] => root + "/agents",
            [NotificationEventKind.ConnectionTestFailed or NotificationEventKind.BulkEnrollmentTokenExpiring] => root + "/connections",
            _ => project is not null ? $"{root}/projects/{project.Id}" : root + "/",
        };
    }

    /// <summary>The subject: the project and what happened, free of control characters.</summary>
    public static string Subject(NotificationMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var where = message.Project?.Name is { } name ? $"{name}: " : "";
        var what = message.Test
            ? "test message"
            : string.Join(", ", message.CountsByKind.Select(k => Headline(Enum.Parse<NotificationEventKind>(k.Key), k.Value)));
        return HeaderText($"[Rehome] {where}{what}", 200);
    }

    /// <summary>How many of one kind happened, in words.</summary>
    public static string Headline(NotificationEventKind kind, int count)
    {
        var n = count.ToString("N0", CultureInfo.InvariantCulture);
        return (kind, count) switch
        {
            (NotificationEventKind.RunFinished, 1) => "a run finished",
            (NotificationEventKind.RunFinished, _) => $"{n} runs finished",
            (NotificationEventKind.JobFailed, 1) => "a job failed",
            (NotificationEventKind.JobFailed, _) => $"{n} jobs failed",
            (NotificationEventKind.DeviceAwaitingApproval, 1) => "a device waits for approval",
            (NotificationEventKind.DeviceAwaitingApproval, _) => $"{n} devices wait for approval",
            (NotificationEventKind.DestinationPreparationFailing, _) => $"destination provisioning failing ({n})",
            (NotificationEventKind.ConnectionTestFailed, 1) => "a connection test failed",
            (NotificationEventKind.ConnectionTestFailed, _) => $"{n} connection tests failed",
            (NotificationEventKind.BulkEnrollmentTokenExpiring, 1) => "a bulk enrollment token expires soon",
            (NotificationEventKind.BulkEnrollmentTokenExpiring, _) => $"{n} bulk enrollment tokens expire soon",
            (NotificationEventKind.AgentOfflineDuringRun, 1) => "an agent went offline during a run",
            (NotificationEventKind.AgentOfflineDuringRun, _) => $"{n} agents went offline during a run",
            _ => $"{n} {kind}",
        };
    }

    /// <summary>The plain-text body.</summary>
    public static string Text(NotificationMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var text = new StringBuilder();
        foreach (var line in Lines(message))
        {
            text.Append(CultureInfo.InvariantCulture, $"{TextRules.Neutralise(line.Text)}\n");
        }
        return text.ToString();
    }

    /// <summary>A simple HTML body; every text from outside is encoded.</summary>
    public static string Html(NotificationMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var html = new StringBuilder("<!DOCTYPE html><html><body style=\"font-family:sans-serif\">");
        var inList = false;
        foreach (var line in Lines(message))
        {
            if (line.Item != inList)
            {
                html.Append(line.Item ? "<ul>" : "</ul>");
                inList = line.Item;
            }
            var encoded = WebUtility.HtmlEncode(TextRules.Neutralise(line.Item ? line.Text[2..] : line.Text));
            html.Append(line.Item ? $"<li>{encoded}</li>" : line.Link ? $"<p><a href=\"{encoded}\">{encoded}</a></p>" : $"<p>{encoded}</p>");
        }
        if (inList)
        {
            html.Append("</ul>");
        }
        return html.Append("</body></html>").ToString();
    }

    private readonly record struct Line(string Text, bool Item = false, bool Link = false);

    private static IEnumerable<Line> Lines(NotificationMessage message)
    {
        if (message.Test)
        {
            yield return new Line($"This is a test message from Rehome for the subscription '{message.Subscription}'. It arrived: nothing else to do.");
            yield break;
        }
        yield return new Line($"{Subject(message)["[Rehome] ".Length..]} ({message.Total.ToString("N0", CultureInfo.InvariantCulture)} event(s), subscription '{message.Subscription}').");
        if (message.CountsByReason.Count > 0)
        {
            yield return new Line("By reason:");
            foreach (var (reason, count) in message.CountsByReason)
            {
                yield return new Line($"- {reason}: {count.ToString("N0", CultureInfo.InvariantCulture)}", Item: true);
            }
        }
        yield return new Line(message.Omitted > 0 ? $"The first {message.Events.Count}:" : "Events:");
        foreach (var e in message.Events)
        {
            yield return new Line($"- {e.OccurredAt.ToUniversalTime():yyyy-MM-dd HH:mm:ss} UTC {Describe(e.Details)}", Item: true);
        }
        if (message.Omitted > 0)
        {
            yield return new Line($"and {message.Omitted.ToString("N0", CultureInfo.InvariantCulture)} more.");
        }
        if (message.Link is { } link)
        {
            yield return new Line(link, Link: true);
        }
    }

    private static string Describe(NotificationEventData d)
    {
        var parts = new List<string> { d.Summary };
        if (d.Reason is not null || d.Message is not null)
        {
            parts.Add($"({string.Join(": ", new[] { d.Reason, d.Message }.Where(p => p is not null))})");
        }
        if (d.Counts is { Count: > 0 } counts)
        {
            parts.Add(string.Join(", ", counts.Select(c => $"{c.Key} {c.Value.ToString("N0", CultureInfo.InvariantCulture)}")));
        }
        if (d.Advice is not null)
        {
            parts.Add("What to do: " + d.Advice);
        }
        return string.Join(" ", parts);
    }

    /// <summary>Header text: control, bidirectional and unpaired surrogate characters removed, cut to <paramref name="max"/>.</summary>
    public static string HeaderText(string value, int max)
    {
        ArgumentNullException.ThrowIfNull(value);
        var kept = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                kept.Append(c).Append(value[++i]);
            }
            else if (!char.IsSurrogate(c) && !TextRules.IsRefused(c))
            {
                kept.Append(c);
            }
        }
        return kept.Length <= max ? kept.ToString() : kept.ToString(0, max - 1) + "…";
    }
}
