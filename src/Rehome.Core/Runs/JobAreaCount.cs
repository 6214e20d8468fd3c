namespace Rehome.Core.Runs;

/// <summary>
/// What a permissions or profile job did in one area of the device (in a dry run: what it would do), as its agent
/// reported it. <see cref="Area"/> is the agent's area name (Files, Registry, UserHives, Shares, Services, Printers,
/// ScheduledTasks, LocalGroups, UserRights, ProfileList); <see cref="Problem"/> says why the area was not done.
/// </summary>
public sealed record JobAreaCount(string Area, int Seen, int Changed, int Failed, string? Problem = null)
{
    /// <summary>
    /// One line for a report: "Printers: not done — this device's agent cannot migrate it", or "Files: 1,200 seen,
    /// 40 changed, 0 failed" ("40 would change" in a dry run).
    /// </summary>
    public string Describe(bool dryRun) => Problem is { } problem
        ? $"{JobAreaCounts.DisplayName(Area)}: not done — {problem}"
        : $"{JobAreaCounts.DisplayName(Area)}: {Seen:N0} seen, {Changed:N0} {(dryRun ? "would change" : "changed")}, {Failed:N0} failed";
}

/// <summary>Names and sums of area counts.</summary>
public static class JobAreaCounts
{
    public static string DisplayName(string area) => area switch
    {
        "UserHives" => "User hives",
        "ScheduledTasks" => "Scheduled tasks",
        "LocalGroups" => "Local groups",
        "UserRights" => "User rights",
        _ => area,
    };

    /// <summary>
    /// The counts of many jobs summed per area (the rehearsal's table, a project's totals); an area with a problem
    /// on any device counts how many devices could not do it.
    /// </summary>
    public static IReadOnlyList<(string Area, long Seen, long Changed, long Failed, int NotDone)> Sum(IEnumerable<JobAreaCount> counts) =>
        [.. counts.GroupBy(c => c.Area, StringComparer.Ordinal)
            .Select(g => (g.Key, g.Sum(c => (long)c.Seen), g.Sum(c => (long)c.Changed), g.Sum(c => (long)c.Failed), g.Count(c => c.Problem is not null)))
            .OrderBy(s => s.Key, StringComparer.Ordinal)];
}
