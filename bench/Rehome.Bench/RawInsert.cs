using System.Data.Common;
using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;

namespace Rehome.Bench;

/// <summary>
/// The reference a run is measured against: the same job rows, read back from the store, written again by plain
/// ADO.NET into a scratch copy of the jobs table (same columns, defaults and indexes) in one transaction, committed:
/// a prepared INSERT reused for every row on SQLite, binary COPY on PostgreSQL. What the schema costs, without the
/// run engine.
/// </summary>
internal static class RawInsert
{
    private const string Scratch = "bench_raw_jobs";

    /// <summary>The columns the run writer binds for an ordinary run (the rest take their defaults), and their PostgreSQL types.</summary>
    private static readonly (string Name, NpgsqlDbType Type)[] Columns =
    [
        ("id", NpgsqlDbType.Uuid), ("run_id", NpgsqlDbType.Uuid), ("project_id", NpgsqlDbType.Uuid), ("mapping_id", NpgsqlDbType.Uuid),
        ("kind", NpgsqlDbType.Integer), ("status", NpgsqlDbType.Integer), ("needs_destination_preparation", NpgsqlDbType.Boolean),
        ("prerequisite_job_id", NpgsqlDbType.Uuid), ("created_at", NpgsqlDbType.TimestampTz), ("updated_at", NpgsqlDbType.TimestampTz),
    ];

    /// <summary>Copies the run's job rows into a fresh scratch table and returns how long the insert and its commit took.</summary>
    public static async Task<TimeSpan> TimeAsync(DbConnection connection, Guid runId)
    {
        if (connection.State != System.Data.ConnectionState.Open)
        {
            await connection.OpenAsync();
        }
        var postgres = connection is NpgsqlConnection;
        var rows = await ReadRowsAsync(connection, runId, postgres);
        await CreateScratchAsync(connection, postgres);
        var clock = Stopwatch.StartNew();
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            if (connection is NpgsqlConnection npgsql)
            {
                await using var importer = await npgsql.BeginBinaryImportAsync(
                    $"COPY {Scratch} ({string.Join(", ", Columns.Select(c => c.Name))}) FROM STDIN (FORMAT BINARY)");
                foreach (var row in rows)
                {
                    importer.StartRow();
                    for (var i = 0; i < Columns.Length; i++)
                    {
                        if (row[i] is DBNull)
                        {
                            importer.WriteNull();
                        }
                        else
                        {
                            importer.Write(row[i], Columns[i].Type);
                        }
                    }
                }
                await importer.CompleteAsync();
            }
            else
            {
                await using var command = (SqliteCommand)connection.CreateCommand();
                command.Transaction = (SqliteTransaction)transaction;
                command.CommandText = $"INSERT INTO {Scratch} ({string.Join(", ", Columns.Select(c => c.Name))}) " +
                    $"VALUES ({string.Join(", ", Columns.Select((_, i) => "$p" + i))})";
                var parameters = Columns.Select((_, i) => command.Parameters.Add(new SqliteParameter("$p" + i, null))).ToArray();
                command.Prepare();
                foreach (var row in rows)
                {
                    for (var i = 0; i < parameters.Length; i++)
                    {
                        parameters[i].Value = row[i];
                    }
                    command.ExecuteNonQuery();
                }
            }
            await transaction.CommitAsync();
        }
        var elapsed = clock.Elapsed;
        await ExecuteAsync(connection, $"DROP TABLE {Scratch}");
        return elapsed;
    }

    /// <summary>
    /// The floors of a run written one row per mapping instead of one per job, each measured as plain ADO.NET in its own
    /// transaction, committed (as the raw insert is): the run's mappings' summary columns set as the engine sets them (a
    /// prepared UPDATE by key on SQLite, one UPDATE from an array on PostgreSQL; to other values than they hold, so that
    /// no index entry is spared), the same columns set in a narrow scratch table of their own, and one narrow row per
    /// mapping (a run item: key, run, project, mapping, kinds, flags, time) inserted into a scratch table with a key and
    /// the two indexes such items need (by mapping; by run and mapping). It leaves the run's mappings showing values no
    /// run wrote: the last thing the bench does. On PostgreSQL both tables are vacuumed and analyzed first (untimed), so
    /// that the run's dead rows in mappings weigh on neither side.
    /// </summary>
    public static async Task<(TimeSpan SummaryUpdate, TimeSpan NarrowSummaryUpdate, TimeSpan ItemInsert, int Mappings)> PerMappingFloorsAsync(DbConnection connection, Guid runId)
    {
        var postgres = connection is NpgsqlConnection;
        var mappings = new List<Guid>();
        Guid projectId;
        await using (var read = connection.CreateCommand())
        {
            read.CommandText = "SELECT mapping_id, project_id FROM jobs WHERE run_id = @run AND kind = 1";
            AddParameter(read, "run", StoreId(runId, postgres));
            await using var reader = await read.ExecuteReaderAsync();
            projectId = Guid.Empty;
            while (await reader.ReadAsync())
            {
                mappings.Add(postgres ? reader.GetGuid(0) : new Guid((byte[])reader[0], bigEndian: true));
                projectId = postgres ? reader.GetGuid(1) : new Guid((byte[])reader[1], bigEndian: true);
            }
        }
        object Id(Guid id) => StoreId(id, postgres);
        var now = DateTimeOffset.UtcNow;
        // As the store keeps times: PostgreSQL's timestamptz, SQLite's Unix milliseconds.
        object Now() => postgres ? now : now.ToUnixTimeMilliseconds();

        async Task<TimeSpan> UpdateSummariesAsync(string table, string key)
        {
            var clock = Stopwatch.StartNew();
            await using var transaction = await connection.BeginTransactionAsync();
            await using var update = connection.CreateCommand();
            update.Transaction = transaction;
            const string set = "last_run_id = @run, stage = 4, status = 6, last_job_id = @id, items_done = 0, items_total = 0, updated_at = @now";
            if (postgres)
            {
                update.CommandText = $"UPDATE {table} SET {set.Replace("@id", "s.id", StringComparison.Ordinal)} FROM unnest(@ids) AS s (id) WHERE {table}.{key} = s.id";
                AddParameter(update, "run", Guid.NewGuid());
                AddParameter(update, "now", now);
                AddParameter(update, "ids", mappings.ToArray());
                await update.ExecuteNonQueryAsync();
            }
            else
            {
                update.CommandText = $"UPDATE {table} SET {set} WHERE {key} = @id";
                AddParameter(update, "@run", Id(Guid.NewGuid()));
                AddParameter(update, "@now", Now());
                var id = AddParameter(update, "@id", null);
                update.Prepare();
                foreach (var mapping in mappings)
                {
                    id.Value = Id(mapping);
                    update.ExecuteNonQuery();
                }
            }
            await transaction.CommitAsync();
            return clock.Elapsed;
        }
        if (postgres)
        {
            await ExecuteAsync(connection, "VACUUM ANALYZE mappings");
        }
        var summaryUpdate = await UpdateSummariesAsync("mappings", "id");

        // The same columns in a narrow table of their own (one row per mapping, keyed by it, with the list's two
        // indexes on them), as if the summary left the mappings table and its other indexes.
        const string states = "bench_raw_states";
        const string stateColumns = "project_id, source_device_key, last_run_id, stage, status, last_job_id, items_done, items_total, updated_at";
        await CreateScratchTableAsync(connection, postgres, states,
            "mapping_id uuid PRIMARY KEY, project_id uuid NOT NULL, source_device_key text NOT NULL, last_run_id uuid, stage integer, status integer, last_job_id uuid, items_done integer NOT NULL, items_total integer NOT NULL, updated_at timestamptz NOT NULL",
            "mapping_id BLOB NOT NULL PRIMARY KEY, project_id BLOB NOT NULL, source_device_key TEXT NOT NULL, last_run_id BLOB, stage INTEGER, status INTEGER, last_job_id BLOB, items_done INTEGER NOT NULL, items_total INTEGER NOT NULL, updated_at INTEGER NOT NULL",
            "project_id, stage, source_device_key", "project_id, status, source_device_key");
        await ExecuteAsync(connection, $"INSERT INTO {states} (mapping_id, {stateColumns}) SELECT id, {stateColumns} FROM mappings");
        if (postgres)
        {
            await ExecuteAsync(connection, $"VACUUM ANALYZE {states}");
        }
        var narrowUpdate = await UpdateSummariesAsync(states, "mapping_id");
        await ExecuteAsync(connection, $"DROP TABLE {states}");

        const string items = "bench_raw_items";
        await CreateScratchTableAsync(connection, postgres, items,
            "id uuid PRIMARY KEY, run_id uuid NOT NULL, project_id uuid NOT NULL, mapping_id uuid NOT NULL, kinds integer NOT NULL, scheduled boolean NOT NULL, dry_run boolean NOT NULL, created_at timestamptz NOT NULL",
            "id BLOB NOT NULL PRIMARY KEY, run_id BLOB NOT NULL, project_id BLOB NOT NULL, mapping_id BLOB NOT NULL, kinds INTEGER NOT NULL, scheduled INTEGER NOT NULL, dry_run INTEGER NOT NULL, created_at INTEGER NOT NULL",
            "mapping_id", "run_id, mapping_id");
        var itemRun = Guid.NewGuid();
        var clock = Stopwatch.StartNew();
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            if (connection is NpgsqlConnection npgsql)
            {
                await using var importer = await npgsql.BeginBinaryImportAsync(
                    $"COPY {items} (id, run_id, project_id, mapping_id, kinds, scheduled, dry_run, created_at) FROM STDIN (FORMAT BINARY)");
                foreach (var mapping in mappings)
                {
                    await importer.StartRowAsync();
                    await importer.WriteAsync(Guid.CreateVersion7(), NpgsqlDbType.Uuid);
                    await importer.WriteAsync(itemRun, NpgsqlDbType.Uuid);
                    await importer.WriteAsync(projectId, NpgsqlDbType.Uuid);
                    await importer.WriteAsync(mapping, NpgsqlDbType.Uuid);
                    await importer.WriteAsync(31, NpgsqlDbType.Integer);
                    await importer.WriteAsync(false, NpgsqlDbType.Boolean);
                    await importer.WriteAsync(false, NpgsqlDbType.Boolean);
                    await importer.WriteAsync(now, NpgsqlDbType.TimestampTz);
                }
                await importer.CompleteAsync();
            }
            else
            {
                await using var insert = connection.CreateCommand();
                insert.Transaction = transaction;
                insert.CommandText = $"INSERT INTO {items} VALUES ($id, $run, $project, $mapping, 31, 0, 0, $now)";
                var id = AddParameter(insert, "$id", null);
                var mapping = AddParameter(insert, "$mapping", null);
                AddParameter(insert, "$run", Id(itemRun));
                AddParameter(insert, "$project", Id(projectId));
                AddParameter(insert, "$now", Now());
                insert.Prepare();
                foreach (var m in mappings)
                {
                    id.Value = Id(Guid.CreateVersion7());
                    mapping.Value = Id(m);
                    insert.ExecuteNonQuery();
                }
            }
            await transaction.CommitAsync();
        }
        var itemInsert = clock.Elapsed;
        await ExecuteAsync(connection, $"DROP TABLE {items}");
        return (summaryUpdate, narrowUpdate, itemInsert, mappings.Count);
    }

    /// <summary>A fresh scratch table (its columns as each store declares them) with an index on each of <paramref name="indexes"/>.</summary>
    private static async Task CreateScratchTableAsync(DbConnection connection, bool postgres, string table, string postgresColumns, string sqliteColumns,
        params string[] indexes)
    {
        await ExecuteAsync(connection, $"DROP TABLE IF EXISTS {table}");
        await ExecuteAsync(connection, $"CREATE TABLE {table} ({(postgres ? postgresColumns : sqliteColumns)})");
        for (var i = 0; i < indexes.Length; i++)
        {
            await ExecuteAsync(connection, $"CREATE INDEX ix_{table}_{i} ON {table} ({indexes[i]})");
        }
    }

    /// <summary>A GUID as the store keeps it: PostgreSQL's uuid, SQLite's 16 big-endian bytes.</summary>
    private static object StoreId(Guid id, bool postgres) => postgres ? id : id.ToByteArray(true);

    private static DbParameter AddParameter(DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
        return parameter;
    }

    private static async Task<List<object[]>> ReadRowsAsync(DbConnection connection, Guid runId, bool postgres)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {string.Join(", ", Columns.Select(c => c.Name))} FROM jobs WHERE run_id = @run ORDER BY id";
        AddParameter(command, "run", StoreId(runId, postgres));
        var rows = new List<object[]>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var row = new object[Columns.Length];
            reader.GetValues(row);
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>A copy of the jobs table with its defaults and indexes, empty.</summary>
    private static async Task CreateScratchAsync(DbConnection connection, bool postgres)
    {
        await ExecuteAsync(connection, $"DROP TABLE IF EXISTS {Scratch}");
        if (postgres)
        {
            await ExecuteAsync(connection, $"CREATE TABLE {Scratch} (LIKE jobs INCLUDING ALL)");
            return;
        }
        await using var schema = connection.CreateCommand();
        schema.CommandText = "SELECT sql FROM sqlite_master WHERE tbl_name = 'jobs' AND sql IS NOT NULL ORDER BY type DESC";
        var statements = new List<string>();
        await using (var reader = await schema.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                statements.Add(reader.GetString(0));
            }
        }
        foreach (var statement in statements)
        {
            // Table first ("table" sorts after "index" descending), then its indexes, renamed.
            await ExecuteAsync(connection, statement.Replace("\"jobs\"", $"\"{Scratch}\"", StringComparison.Ordinal)
                .Replace("\"ix_jobs_", $"\"ix_{Scratch}_", StringComparison.Ordinal)
                .Replace("\"pk_jobs\"", $"\"pk_{Scratch}\"", StringComparison.Ordinal));
        }
    }

    private static async Task ExecuteAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
