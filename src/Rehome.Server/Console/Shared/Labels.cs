using System.Globalization;
using Rehome.Core.Mappings;
using Rehome.Core.Runs;
using Rehome.Server.Mappings;

namespace Rehome.Server.Console.Shared;

/// <summary>How the console words statuses, stages and times.</summary>
public static class Labels
{
    public static string Status(JobStatus? status) => status?.DisplayName() ?? "Not started";

    public static string Status(string statusName) =>
        statusName == MappingQuery.NotStarted ? "Not started" : Enum.TryParse<JobStatus>(statusName, out var s) ? s.DisplayName() : statusName;

    public static string Stage(JobKind? stage) => stage?.DisplayName() ?? "—";

    public static string Time(DateTimeOffset? at) => at is { } t ? t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture) : "—";

    public static string Readiness(ReadinessState state) => state switch
    {
        ReadinessState.Ready => "Ready",
        ReadinessState.Warnings => "Warnings",
        _ => "Not ready",
    };

    public static string Count(int n) => n.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>What an administrator can do about a job that did not finish cleanly (the reports say the same).</summary>
    public static string? Advice(JobStatus status, string? errorCode) => JobAdvice.For(status, errorCode);
}
