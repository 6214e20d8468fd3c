using Rehome.Core.Runs;

namespace Rehome.Server.Store;

/// <summary>
/// The views that let a run write one row per mapping (<see cref="RunItem"/>, table <c>run_items</c>) instead of one
/// per job: <c>derived_jobs</c> turns each run item into the jobs it stands for, by <see cref="RunItems"/>'s rule,
/// with every column a job row has (counters zero, lease and errors empty); <c>all_jobs</c> is the <c>jobs</c> table
/// with those added, and is what every read of <see cref="Job"/> goes through (the entity is mapped to the table for
/// writes and to this view for queries). A run item is deleted when its jobs become rows
/// (<see cref="Runs.RunItemStore"/>), so a job is never in both.
/// <para>
/// The views' SQL is frozen in the migration that created them (<see cref="ViewStatements"/> made it); a later change
/// to the <c>jobs</c> table's columns or to this rule needs a migration that drops both views and creates them again.
/// </para>
/// </summary>
public static class CompactJobsSchema
{
    /// <summary>The jobs table's columns, in the order both branches of <c>all_jobs</c> give them.</summary>
    private static readonly string[] JobColumns =
    [
        "id", "run_id", "project_id", "mapping_id", "kind", "status", "needs_destination_preparation", "prerequisite_job_id",
        "attempts", "created_at", "started_at", "finished_at", "updated_at", "items_done", "items_total", "items_changed",
        "items_failed", "error_code", "error_message", "stop_requested", "lease_owner", "lease_token", "lease_expires_at",
        "agent_id", "agent_version", "step", "message", "destination_payload_protected", "dry_run", "revert_of",
        "reverted_by", "areas", "directory_failing_since", "directory_next_try", "directory_retry_delay",
        "autopilot_import_id", "autopilot_import_serial",
    ];

    /// <summary>The columns that <see cref="Runs.RunItemStore"/> copies from <c>derived_jobs</c> into <c>jobs</c> (the rest take their defaults).</summary>
    public const string MaterialisedColumns =
        "id, run_id, project_id, mapping_id, kind, status, needs_destination_preparation, prerequisite_job_id, created_at, updated_at, dry_run";

    /// <summary>
    /// The statements that create <c>derived_jobs</c> and <c>all_jobs</c> by today's code. Migrations do not call this:
    /// each freezes the SQL it created (see the RunItems migrations), so a later change here cannot alter what an old
    /// migration does to a fresh store. A test compares the migrated store's views with these: when it fails, write a
    /// migration that drops both views and creates them from this.
    /// </summary>
    public static (string DerivedJobs, string AllJobs) ViewStatements(bool postgres) => (
        $"CREATE VIEW derived_jobs AS {DerivedSelect("run_items", postgres)};",
        $"""
        CREATE VIEW all_jobs AS
        SELECT {string.Join(", ", JobColumns)} FROM jobs
        UNION ALL
        SELECT {string.Join(", ", JobColumns)} FROM derived_jobs;
        """);

    private static string PostgresNullType(string column) => column switch
    {
        "lease_owner" or "lease_token" or "agent_id" or "revert_of" or "reverted_by" => "uuid",
        "started_at" or "finished_at" or "lease_expires_at" or "directory_failing_since" or "directory_next_try" => "timestamp with time zone",
        "directory_retry_delay" => "interval",
        _ => "text",
    };

    /// <summary>
    /// The jobs of the run items in <paramref name="source"/> (a table or a CTE with run_items' columns), every job
    /// column plus <c>run_item_id</c>. Mirrors <see cref="RunItems.Jobs"/>; the tests compare the two.
    /// </summary>
    public static string DerivedSelect(string source, bool postgres)
    {
        var kinds = string.Join(" UNION ALL ", JobKinds.All.Select(k => $"SELECT {(int)k} AS kind"));
        var rejoinBit = RunItems.Bit(JobKind.RejoinDomain);
        var needsRejoin = string.Join(", ", JobKinds.All.Where(k => k.NeedsRejoin()).Select(k => (int)k));
        var hasPrerequisite = $"k.kind IN ({needsRejoin}) AND (ri.kinds & {rejoinBit}) <> 0";
        string JobId(string kind) => postgres
            ? $"overlay(ri.id::text placing lpad(to_hex({kind}), 2, '0') from 35)::uuid"
            : $"unhex(substr(hex(ri.id), 1, 30) || printf('%02X', {kind}))";
        var values = new Dictionary<string, string>
        {
            ["id"] = JobId("k.kind"),
            ["run_id"] = "ri.run_id",
            ["project_id"] = "ri.project_id",
            ["mapping_id"] = "ri.mapping_id",
            ["kind"] = "k.kind",
            ["status"] = $"CASE WHEN ri.scheduled THEN {(int)JobStatus.Scheduled} WHEN {hasPrerequisite} THEN {(int)JobStatus.WaitingForPrerequisite} ELSE {(int)JobStatus.WaitingToStart} END",
            ["needs_destination_preparation"] = "false",
            ["prerequisite_job_id"] = $"CASE WHEN {hasPrerequisite} THEN {JobId((int)JobKind.RejoinDomain + "")} END",
            ["attempts"] = "0",
            ["created_at"] = "ri.created_at",
            ["updated_at"] = "ri.created_at",
            ["items_done"] = "0",
            ["items_total"] = "0",
            ["items_changed"] = "0",
            ["items_failed"] = "0",
            ["stop_requested"] = "false",
            ["dry_run"] = "ri.dry_run",
        };
        // PostgreSQL gives a view's untyped NULL the type text, which the table's uuid or timestamp columns do not match.
        var columns = JobColumns.Select(c => values.TryGetValue(c, out var value) ? $"{value} AS {c}"
            : postgres ? $"NULL::{PostgresNullType(c)} AS {c}" : $"NULL AS {c}");
        return $"""
            SELECT {string.Join(", ", columns)}, ri.id AS run_item_id
            FROM {source} ri JOIN ({kinds}) k ON (ri.kinds & (1 << k.kind)) <> 0
            """;
    }
}
