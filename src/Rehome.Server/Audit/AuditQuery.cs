namespace Rehome.Server.Audit;

/// <summary>The audit log's filter, for the API, the console and the CSV export.</summary>
public static class AuditQuery
{
    /// <summary>Entries by <paramref name="actor"/> (exactly) whose action starts with <paramref name="action"/>, newest first.</summary>
    public static IQueryable<AuditEntry> Apply(IQueryable<AuditEntry> query, string? actor, string? action) =>
        Filter(query, actor, action, null, null).OrderByDescending(a => a.Id);

    /// <summary>
    /// Entries by <paramref name="actor"/> whose action starts with <paramref name="action"/>, at or after
    /// <paramref name="from"/> and before <paramref name="to"/>, in no particular order.
    /// </summary>
    public static IQueryable<AuditEntry> Filter(IQueryable<AuditEntry> query, string? actor, string? action, DateTimeOffset? from, DateTimeOffset? to)
    {
        if (!string.IsNullOrWhiteSpace(actor))
        {
            query = query.Where(a => a.Actor == actor);
        }
        if (!string.IsNullOrWhiteSpace(action))
        {
            query = query.Where(a => a.Action.StartsWith(action));
        }
        if (from is { } start)
        {
            query = query.Where(a => a.At >= start);
        }
        if (to is { } end)
        {
            query = query.Where(a => a.At < end);
        }
        return query;
    }
}
