using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Rehome.Server.Store;

/// <summary>
/// Hand-written SQL statements on the scope's connection, inside its current transaction: the conditional
/// UPDATEs of job transitions and mapping summaries, and the few bulk statements EF Core has no form for.
/// Parameters take the store's form through <see cref="SqlDialect"/>.
/// </summary>
public sealed class StoreCommands(RehomeDbContext db, SqlDialect dialect)
{
    public SqlDialect Dialect => dialect;

    /// <summary>Runs a statement; returns the number of rows it changed.</summary>
    public async Task<int> ExecuteAsync(string sql, CancellationToken ct, params (string Name, object? Value)[] parameters)
    {
        await OpenAsync(ct);
        await using var command = CreateCommand(sql, parameters);
        return await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The first column of the first row the statement returns, or default when none (or NULL).</summary>
    public async Task<T?> ScalarAsync<T>(string sql, CancellationToken ct, params (string Name, object? Value)[] parameters)
    {
        await OpenAsync(ct);
        await using var command = CreateCommand(sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct) || await reader.IsDBNullAsync(0, ct))
        {
            return default;
        }
        var type = Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T);
        object value = type == typeof(Guid) ? dialect.ReadGuid(reader, 0) : type == typeof(bool) ? reader.GetBoolean(0) : reader.GetValue(0);
        return (T)value;
    }

    /// <summary>Every row the statement returns (an UPDATE … RETURNING, say), read by <paramref name="read"/>.</summary>
    public async Task<List<T>> QueryAsync<T>(string sql, Func<DbDataReader, T> read, CancellationToken ct, params (string Name, object? Value)[] parameters)
    {
        await OpenAsync(ct);
        await using var command = CreateCommand(sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var rows = new List<T>();
        while (await reader.ReadAsync(ct))
        {
            rows.Add(read(reader));
        }
        return rows;
    }

    /// <summary>
    /// An SQL list of parameters for <paramref name="ids"/> (<c>@m0, @m1, …</c>) and their values: for an
    /// <c>IN (…)</c> of a few hundred ids (callers chunk larger sets; a parameter each would pass the store's limit).
    /// </summary>
    public static (string List, (string Name, object? Value)[] Parameters) InList(IReadOnlyList<Guid> ids, string prefix = "m") =>
        (string.Join(", ", ids.Select((_, i) => $"@{prefix}{i}")), ids.Select((id, i) => ($"{prefix}{i}", (object?)id)).ToArray());

    /// <summary>
    /// Opens the scope's connection when no transaction did (a read, or a writer that begins its transactions later):
    /// EF Core then keeps it open until the scope ends.
    /// </summary>
    private async Task OpenAsync(CancellationToken ct)
    {
        if (db.Database.GetDbConnection().State != System.Data.ConnectionState.Open)
        {
            await db.Database.OpenConnectionAsync(ct);
        }
    }

    /// <summary>A command to run many times with new parameter values (set them with <see cref="SqlDialect.Value"/>).</summary>
    public DbCommand CreateCommand(string sql, (string Name, object? Value)[] parameters)
    {
        var connection = db.Database.GetDbConnection();
        var command = connection.CreateCommand();
        command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            dialect.Add(command, "@" + name, value);
        }
        return command;
    }
}
