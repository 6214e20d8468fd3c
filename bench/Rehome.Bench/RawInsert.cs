using System.Data.Common;
using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;

namespace Rehome.Bench;

/// <summary>
/// The references a run is measured against: rows of the run, read back from the store, written again by plain
/// ADO.NET into a scratch copy of their table (same columns, defaults and indexes) in one transaction, committed:
/// a prepared INSERT reused for every row on SQLite, binary COPY on PostgreSQL. What the schema costs, without the
/// run engine. <see cref="Jobs"/>: the run's jobs as 250,000 job rows (the reference before run items, read through
/// the all_jobs view); <see cref="Items"/>: what a run writes now, its run items (one per mapping).
/// </summary>
internal sealed class RawInsert
{
    private readonly string _table;
    private readonly (string Name, NpgsqlDbType Type)[] _columns;

    private RawInsert(string table, (string Name, NpgsqlDbType Type)[] columns) => (_table, _columns) = (table, columns);

    private string Scratch => $"bench_raw_{_table}";

    /// <summary>The columns the run writer binds for an ordinary run's job rows (the rest take their defaults), and their PostgreSQL types.</summary>
    public static RawInsert Jobs { get; } = new("jobs",
    [
        ("id", NpgsqlDbType.Uuid), ("run_id", NpgsqlDbType.Uuid), ("project_id", NpgsqlDbType.Uuid), ("mapping_id", NpgsqlDbType.Uuid),
        ("kind", NpgsqlDbType.Integer), ("status", NpgsqlDbType.Integer), ("needs_destination_preparation", NpgsqlDbType.Boolean),
        ("prerequisite_job_id", NpgsqlDbType.Uuid), ("created_at", NpgsqlDbType.TimestampTz), ("updated_at", NpgsqlDbType.TimestampTz),
    ]);

    /// <summary>A run item's columns (BulkWriter writes them all).</summary>
    public static RawInsert Items { get; } = new("run_items",
    [
        ("id", NpgsqlDbType.Uuid), ("run_id", NpgsqlDbType.Uuid), ("project_id", NpgsqlDbType.Uuid), ("mapping_id", NpgsqlDbType.Uuid),
        ("kinds", NpgsqlDbType.Integer), ("scheduled", NpgsqlDbType.Boolean), ("dry_run", NpgsqlDbType.Boolean), ("created_at", NpgsqlDbType.TimestampTz),
    ]);

    /// <summary>Copies the run's rows into a fresh scratch table and returns how many and how long the insert and its commit took.</summary>
    public async Task<(int Rows, TimeSpan Elapsed)> TimeAsync(DbConnection connection, Guid runId)
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
                    $"COPY {Scratch} ({string.Join(", ", _columns.Select(c => c.Name))}) FROM STDIN (FORMAT BINARY)");
                foreach (var row in rows)
                {
                    importer.StartRow();
                    for (var i = 0; i < _columns.Length; i++)
                    {
                        if (row[i] is DBNull)
                        {
                            importer.WriteNull();
                        }
                        else
                        {
                            importer.Write(row[i], _columns[i].Type);
                        }
                    }
                }
                await importer.CompleteAsync();
            }
            else
            {
                await using var command = (SqliteCommand)connection.CreateCommand();
                command.Transaction = (SqliteTransaction)transaction;
                command.CommandText = $"INSERT INTO {Scratch} ({string.Join(", ", _columns.Select(c => c.Name))}) " +
                    $"VALUES ({string.Join(", ", _columns.Select((_, i) => "$p" + i))})";
                var parameters = _columns.Select((_, i) => command.Parameters.Add(new SqliteParameter("$p" + i, null))).ToArray();
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
        return (rows.Count, elapsed);
    }

    private async Task<List<object[]>> ReadRowsAsync(DbConnection connection, Guid runId, bool postgres)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {string.Join(", ", _columns.Select(c => c.Name))} FROM {(_table == "jobs" ? "all_jobs" : _table)} WHERE run_id = @run ORDER BY id";
        var run = command.CreateParameter();
        run.ParameterName = "run";
        run.Value = postgres ? runId : runId.ToByteArray(true);
        command.Parameters.Add(run);
        var rows = new List<object[]>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var row = new object[_columns.Length];
            reader.GetValues(row);
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>A copy of the table with its defaults and indexes, empty.</summary>
    private async Task CreateScratchAsync(DbConnection connection, bool postgres)
    {
        await ExecuteAsync(connection, $"DROP TABLE IF EXISTS {Scratch}");
        if (postgres)
        {
            await ExecuteAsync(connection, $"CREATE TABLE {Scratch} (LIKE {_table} INCLUDING ALL)");
            return;
        }
        await using var schema = connection.CreateCommand();
        schema.CommandText = $"SELECT sql FROM sqlite_master WHERE tbl_name = '{_table}' AND type IN ('table', 'index') AND sql IS NOT NULL ORDER BY type DESC";
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
            await ExecuteAsync(connection, statement.Replace($"\"{_table}\"", $"\"{Scratch}\"", StringComparison.Ordinal)
                .Replace($"\"ix_{_table}_", $"\"ix_{Scratch}_", StringComparison.Ordinal)
                .Replace($"\"pk_{_table}\"", $"\"pk_{Scratch}\"", StringComparison.Ordinal));
        }
    }

    private static async Task ExecuteAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
