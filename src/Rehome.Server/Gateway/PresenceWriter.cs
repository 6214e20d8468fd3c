using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Rehome.Server.Store;

namespace Rehome.Server.Gateway;

/// <summary>
/// Writes agents' last-seen times, <see cref="Batch"/> agents a statement, into buffers made once for the server: the
/// flush runs every few seconds for every polling agent, and buffers sized to each flush were most of what an idle
/// fleet made the server allocate per agent. One flush at a time (<see cref="AgentRegistry.FlushPresenceAsync"/>).
/// </summary>
internal sealed class PresenceWriter(SqlDialect dialect, int batch = PresenceWriter.DefaultBatch)
{
    /// <summary>Agents written by one statement: a flush of 10,000 is two statements.</summary>
    public const int DefaultBatch = 5_000;

    /// <summary>Agents written by one statement (smaller in tests, to cross its edges with few agents).</summary>
    public int Batch { get; } = batch;

    /// <summary>A time as SQLite keeps it (Unix milliseconds) in a fixed-width field: right-aligned, space-padded, as wide as any long.</summary>
    internal const int TimeWidth = 20;

    /// <summary>The agents of the batch being filled; cleared after each flush so that no forgotten agent is held.</summary>
    public AgentEntry[] Agents { get; } = new AgentEntry[batch];

    // Lists made once with the batch's capacity: filled again each time, so PostgreSQL is sent only the batch's agents.
    private readonly List<Guid>? postgresIds = dialect.IsPostgres ? new(batch) : null;
    private readonly List<DateTimeOffset>? postgresTimes = dialect.IsPostgres ? new(batch) : null;
    private readonly byte[]? sqliteIds = dialect.IsPostgres ? null : new byte[batch * 16];
    private readonly byte[]? sqliteTimes = dialect.IsPostgres ? null : new byte[batch * TimeWidth];

    /// <summary>
    /// One UPDATE for the first <paramref name="count"/> of <see cref="Agents"/>: PostgreSQL unnests two arrays side by
    /// side; SQLite takes the whole blobs and the count, counts 0 … count − 1 and cuts each agent's 16-byte id and
    /// fixed-width time out of them (each agent found by its key). A time never goes back (a newer one written meanwhile by another replica stays).
    /// </summary>
    public async Task WriteAsync(RehomeDbContext db, int count, CancellationToken ct)
    {
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var command = db.Database.GetDbConnection().CreateCommand();
            command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
            if (postgresIds is not null && postgresTimes is not null)
            {
                postgresIds.Clear();
                postgresTimes.Clear();
                for (var i = 0; i < count; i++)
                {
                    postgresIds.Add(Agents[i].AgentId);
                    postgresTimes.Add(Agents[i].LastSeen);
                }
                command.CommandText = "UPDATE agents SET last_seen_at = v.seen FROM unnest(@ids, @seen) AS v(id, seen) "
                    + "WHERE agents.id = v.id AND agents.last_seen_at < v.seen";
                dialect.Add(command, "@ids", postgresIds);
                dialect.Add(command, "@seen", postgresTimes);
            }
            else
            {
                for (var i = 0; i < count; i++)
                {
                    SqlDialect.WriteSqliteId(Agents[i].AgentId, sqliteIds.AsSpan(i * 16, 16));
                    WriteTime(sqliteTimes.AsSpan(i * TimeWidth, TimeWidth), Agents[i].LastSeen.ToUnixTimeMilliseconds());
                }
                command.CommandText = SqliteUpdate;
                dialect.Add(command, "@ids", sqliteIds);
                dialect.Add(command, "@seen", sqliteTimes);
                dialect.Add(command, "@count", count);
            }
            await command.ExecuteNonQueryAsync(ct);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private static readonly string SqliteUpdate = $"""
        {SqlDialect.SqliteCounter}
        UPDATE agents SET last_seen_at = s.seen
        FROM (SELECT substr(@ids, k * 16 + 1, 16) AS id, CAST(substr(@seen, k * {TimeWidth} + 1, {TimeWidth}) AS INTEGER) AS seen FROM n) AS s
        WHERE agents.id = s.id AND agents.last_seen_at < s.seen
        """;

    /// <summary>Unix milliseconds as ASCII digits, right-aligned in <see cref="TimeWidth"/> bytes (SQLite's CAST skips the spaces).</summary>
    internal static void WriteTime(Span<byte> field, long milliseconds)
    {
        Span<byte> digits = stackalloc byte[TimeWidth];
        milliseconds.TryFormat(digits, out var length, provider: System.Globalization.CultureInfo.InvariantCulture);
        field[..(TimeWidth - length)].Fill((byte)' ');
        digits[..length].CopyTo(field[(TimeWidth - length)..]);
    }
}
