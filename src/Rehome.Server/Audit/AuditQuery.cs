namespace Rehome.Server.Audit;

/// <summary>The audit log's filter, for the API and the console.</summary>
public static class AuditQuery
{
    /// <summary>Entries by <paramref name="actor"/> (exactly) whose action starts with <paramref name="action"/>, newest first.</summary>
    public static IQueryable<AuditEntry> Apply(IQueryable<AuditEntry> query, string? actor, string? action)
    {
        if (!string.IsNullOrWhiteSpace(actor))
        {
            query = query.Where(a => a.Actor == actor);
        }
        if (!string.IsNullOrWhiteSpace(action))
        {
            query = query.Where(a => a.Action.StartsWith(action));
        }
        return query.OrderByDescending(a => a.Id);
    }
}
