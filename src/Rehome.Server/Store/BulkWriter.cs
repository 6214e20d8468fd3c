using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;
using Rehome.Core.Mappings;
using Rehome.Core.Runs;

namespace Rehome.Server.Store;

/// <summary>
/// Writes many rows at once inside the caller's transaction: binary COPY on PostgreSQL, one prepared INSERT
/// reused for every row on SQLite. EF Core's change tracking costs tens of microseconds a row, which is
/// seconds for a run of 50,000 mappings × 5 jobs; this is a few hundred milliseconds.
/// </summary>
public static class BulkWriter
{
    private delegate object? Getter<in T>(T row, SqlDialect dialect);

    private sealed record Column<T>(string Name, NpgsqlDbType Type, Getter<T> Get);

    /// <summary>What every job of one new run shares; the rest of each row comes from its <see cref="PlannedJob"/>.</summary>
    public sealed record NewJobs(Guid RunId, Guid ProjectId, DateTimeOffset CreatedAt, bool DryRun, Guid? RevertOf);

    /// <summary>
    /// A new job's columns, straight from the plan (no <see cref="Job"/> entity is made for each of a run's 250,000 jobs);
    /// its counters and stop flag take their database defaults (zero, false), and so do the dry run flag and the
    /// reverted job of an ordinary run.
    /// </summary>
    private static Column<PlannedJob>[] JobColumns(NewJobs run)
    {
        Column<PlannedJob>[] columns =
        [
            new("id", NpgsqlDbType.Uuid, (j, _) => j.Id),
            new("run_id", NpgsqlDbType.Uuid, (_, _) => run.RunId),
            new("project_id", NpgsqlDbType.Uuid, (_, _) => run.ProjectId),
            new("mapping_id", NpgsqlDbType.Uuid, (j, _) => j.MappingId),
            new("kind", NpgsqlDbType.Integer, (j, _) => (int)j.Kind),
            new("status", NpgsqlDbType.Integer, (j, _) => (int)j.Status),
            new("needs_destination_preparation", NpgsqlDbType.Boolean, (j, _) => j.NeedsDestinationPreparation),
            new("prerequisite_job_id", NpgsqlDbType.Uuid, (j, _) => j.PrerequisiteJobId),
            new("created_at", NpgsqlDbType.TimestampTz, (_, d) => d.Time(run.CreatedAt)),
            new("updated_at", NpgsqlDbType.TimestampTz, (_, d) => d.Time(run.CreatedAt)),
        ];
        return run.DryRun || run.RevertOf is not null
            ?
            [
                .. columns,
                new("dry_run", NpgsqlDbType.Boolean, (_, _) => run.DryRun),
                new("revert_of", NpgsqlDbType.Uuid, (_, _) => run.RevertOf),
            ]
            : columns;
    }

    private static readonly Column<RunItem>[] RunItemColumns =
    [
        new("id", NpgsqlDbType.Uuid, (i, _) => i.Id),
        new("run_id", NpgsqlDbType.Uuid, (i, _) => i.RunId),
        new("project_id", NpgsqlDbType.Uuid, (i, _) => i.ProjectId),
        new("mapping_id", NpgsqlDbType.Uuid, (i, _) => i.MappingId),
        new("kinds", NpgsqlDbType.Integer, (i, _) => i.Kinds),
        new("scheduled", NpgsqlDbType.Boolean, (i, _) => i.Scheduled),
        new("dry_run", NpgsqlDbType.Boolean, (i, _) => i.DryRun),
        new("created_at", NpgsqlDbType.TimestampTz, (i, d) => d.Time(i.CreatedAt)),
    ];

    private static readonly Column<Mapping>[] MappingColumns =
    [
        new("id", NpgsqlDbType.Uuid, (m, _) => m.Id),
        new("project_id", NpgsqlDbType.Uuid, (m, _) => m.ProjectId),
        new("source_device", NpgsqlDbType.Text, (m, _) => m.SourceDevice),
        new("source_device_key", NpgsqlDbType.Text, (m, _) => m.SourceDeviceKey),
        new("destination_name", NpgsqlDbType.Text, (m, _) => m.DestinationName),
        new("destination_ou", NpgsqlDbType.Text, (m, _) => m.DestinationOu),
        new("primary_user", NpgsqlDbType.Text, (m, _) => m.PrimaryUser),
        new("destination_user", NpgsqlDbType.Text, (m, _) => m.DestinationUser),
        new("items_done", NpgsqlDbType.Integer, (m, _) => m.ItemsDone),
        new("items_total", NpgsqlDbType.Integer, (m, _) => m.ItemsTotal),
        new("created_at", NpgsqlDbType.TimestampTz, (m, d) => d.Time(m.CreatedAt)),
        new("updated_at", NpgsqlDbType.TimestampTz, (m, d) => d.Time(m.UpdatedAt)),
    ];

    public static Task InsertJobsAsync(DbConnection connection, DbTransaction transaction, SqlDialect dialect,
        NewJobs run, IReadOnlyList<PlannedJob> jobs, CancellationToken cancellationToken) =>
        InsertAsync(connection, transaction, dialect, "jobs", JobColumns(run), jobs, cancellationToken);

    /// <summary>A run's items: one row per mapping standing for its jobs (<see cref="RunItem"/>).</summary>
    public static Task InsertRunItemsAsync(DbConnection connection, DbTransaction transaction, SqlDialect dialect,
        IReadOnlyList<RunItem> items, CancellationToken cancellationToken) =>
        InsertAsync(connection, transaction, dialect, "run_items", RunItemColumns, items, cancellationToken);

    public static Task InsertMappingsAsync(DbConnection connection, DbTransaction transaction, SqlDialect dialect,
        IReadOnlyList<Mapping> mappings, CancellationToken cancellationToken) =>
        InsertAsync(connection, transaction, dialect, "mappings", MappingColumns, mappings, cancellationToken);

    private static async Task InsertAsync<T>(DbConnection connection, DbTransaction transaction, SqlDialect dialect,
        string table, Column<T>[] columns, IReadOnlyList<T> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return;
        }
        var names = string.Join(", ", columns.Select(c => c.Name));
        if (connection is NpgsqlConnection npgsql)
        {
            await using var importer = await npgsql.BeginBinaryImportAsync(
                $"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)", cancellationToken);
            foreach (var row in rows)
            {
                importer.StartRow();
                foreach (var column in columns)
                {
                    var value = column.Get(row, dialect);
                    // Synchronous writes: the importer buffers, and an await per field costs more than the field.
                    if (value is null)
                    {
                        importer.WriteNull();
                    }
                    else
                    {
                        importer.Write(value, column.Type);
                    }
                }
            }
            await importer.CompleteAsync(cancellationToken);
            return;
        }

        var sqlite = (SqliteConnection)connection;
        await using var command = sqlite.CreateCommand();
        command.Transaction = (SqliteTransaction)transaction;
        command.CommandText = $"INSERT INTO {table} ({names}) VALUES ({string.Join(", ", columns.Select((_, i) => "$p" + i))})";
        var parameters = columns.Select((_, i) => command.Parameters.Add(new SqliteParameter("$p" + i, null))).ToArray();
        command.Prepare();
        foreach (var row in rows)
        {
            for (var i = 0; i < columns.Length; i++)
            {
                parameters[i].Value = dialect.Value(columns[i].Get(row, dialect)) ?? DBNull.Value;
            }
            // Synchronous on purpose: Microsoft.Data.Sqlite's async methods run synchronously anyway and cost more.
            command.ExecuteNonQuery();
        }
    }
}
