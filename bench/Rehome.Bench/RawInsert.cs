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

    private static async Task<List<object[]>> ReadRowsAsync(DbConnection connection, Guid runId, bool postgres)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {string.Join(", ", Columns.Select(c => c.Name))} FROM jobs WHERE run_id = @run ORDER BY id";
        var run = command.CreateParameter();
        run.ParameterName = "run";
        run.Value = postgres ? runId : runId.ToByteArray(true);
        command.Parameters.Add(run);
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
