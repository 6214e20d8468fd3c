using Rehome.Core.Runs;

namespace Rehome.Server.Store;

/// <summary>
/// The views that let a run write one row per mapping (<see cref="RunItem"/>, table <c>run_items</c>) instead of one
/// per job: <c>derived_jobs</c> turns each run item into the jobs it stands for, by <see cref="RunItems"/>'s rule,
/// with every column a job row has (counters zero, lease and errors empty); <c>all_jobs</c> is the <c>jobs</c> table
/// with those added, and is what reads of <see cref="Job"/> go through (the entity is mapped to the table for writes
/// and to this view for queries; <see cref="RehomeDbContext.StoredJobs"/> reads the table where the jobs are rows by
/// then). A run item is deleted when its jobs become rows (<see cref="Runs.RunItemStore"/>), so a job is never in
/// both. <c>mapping_states</c> does the same for the mappings' summaries (<see cref="MappingStatesStatement"/>).
/// <para>
/// The views' SQL is frozen in the migration that created them (<see cref="ViewStatements"/> made it); a later change
/// to the <c>jobs</c> or <c>mappings</c> table's columns or to these rules needs a migration that drops the views and
/// creates them again (a view that depends on a table also stops SQLite's rebuild of it and PostgreSQL's change of a
/// column's type).
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
    public static (string DerivedJobs, string AllJobs, string MappingStates) ViewStatements(bool postgres) => (
        $"CREATE VIEW derived_jobs AS {DerivedSelect("run_items", postgres)};",
        $"""
        CREATE VIEW all_jobs AS
        SELECT {string.Join(", ", JobColumns)} FROM jobs
        UNION ALL
        SELECT {string.Join(", ", JobColumns)} FROM derived_jobs;
        """,
        MappingStatesStatement(postgres));

    /// <summary>The mappings table's columns, in the order <c>mapping_states</c> gives them.</summary>
    private static readonly string[] MappingColumns =
    [
        "id", "project_id", "source_device", "source_device_key", "destination_name", "destination_ou", "primary_user",
        "destination_user", "agent_id", "stage", "status", "last_job_id", "last_run_id", "items_done", "items_total",
        "rejoined_at", "readiness", "readiness_reasons", "readiness_checked_at", "created_at", "updated_at",
    ];

    /// <summary>
    /// <c>mapping_states</c>: every mapping as the list shows it. A run does not write its 50,000 mappings' summaries
    /// when it is accepted: while a mapping's newest run (newer than the one its row shows, not a dry run) is still a
    /// run item, the summary is the item's, by <see cref="RunItems.Shown"/> (its first job, waiting or scheduled, no
    /// progress, as of the run's creation). The run engine then writes the same to the rows, a second or two after the
    /// commit (<see cref="Runs.SummaryCatchUp"/>, from this view), or a writer does when the item becomes rows first
    /// (<see cref="Runs.RunItemStore"/>). The <see cref="Core.Mappings.Mapping"/> entity is written to the table and read
    /// through this view; reads of a project whose runs' mappings all show them read the table
    /// (<see cref="RehomeDbContext.MappingsOfAsync"/>), whose indexes the list's filters and sorts use.
    /// </summary>
    private static string MappingStatesStatement(bool postgres)
    {
        // The value for each kinds and flag, written as short as the rule allows (today: the stage by kinds alone, the
        // status by the flag alone), so that the view says what the rule says and no more.
        static string ByKinds(Func<int, string> value) =>
            RunItems.AllKinds().Select(value).Distinct().Count() == 1 ? value(RunItems.AllKinds().First())
                : $"CASE p.kinds {string.Join(" ", RunItems.AllKinds().Select(k => $"WHEN {k} THEN {value(k)}"))} END";
        static string ByItem(Func<int, bool, string> value) =>
            RunItems.AllKinds().All(k => value(k, true) == value(k, false)) ? ByKinds(k => value(k, false))
                : $"CASE WHEN p.scheduled THEN {ByKinds(k => value(k, true))} ELSE {ByKinds(k => value(k, false))} END";
        var stage = ByItem((kinds, scheduled) => $"{(int)RunItems.Shown(kinds, scheduled).Kind}");
        var overlay = new Dictionary<string, string>
        {
            ["stage"] = stage,
            ["status"] = ByItem((kinds, scheduled) => $"{(int)RunItems.Shown(kinds, scheduled).Status}"),
            ["last_job_id"] = JobIdSql("p", stage, postgres),
            ["last_run_id"] = "p.run_id",
            ["items_done"] = "0",
            ["items_total"] = "0",
            // A later edit of the mapping (its name, say) is not hidden by the older run.
            ["updated_at"] = postgres ? "GREATEST(m.updated_at, p.created_at)" : "max(m.updated_at, p.created_at)",
        };
        var columns = MappingColumns.Select(c => overlay.TryGetValue(c, out var value)
            ? $"CASE WHEN p.id IS NULL THEN m.{c} ELSE {value} END AS {c}"
            : $"m.{c} AS {c}");
        // The newest such item of the mapping; an older one waits behind it and shows when it is the newest left.
        return $"""
            CREATE VIEW mapping_states AS
            SELECT {string.Join(", ", columns)}
            FROM mappings m LEFT JOIN run_items p ON p.mapping_id = m.id AND NOT p.dry_run
              AND (m.last_run_id IS NULL OR p.run_id > m.last_run_id)
              AND NOT EXISTS (SELECT 1 FROM run_items q WHERE q.mapping_id = m.id AND NOT q.dry_run AND q.run_id > p.run_id);
            """;
    }

    /// <summary>The id of the item's job of <paramref name="kind"/> (a SQL integer): <see cref="RunItems.JobId"/>.</summary>
    private static string JobIdSql(string item, string kind, bool postgres) => postgres
        ? $"overlay({item}.id::text placing lpad(to_hex({kind}), 2, '0') from 35)::uuid"
        : $"unhex(substr(hex({item}.id), 1, 30) || printf('%02X', {kind}))";

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
        string JobId(string kind) => JobIdSql("ri", kind, postgres);
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
