using System.Net.Sockets;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Data.Sqlite;
using Npgsql;
using Rehome.Server.Gateway;

namespace Rehome.Server.Api;

/// <summary>
/// While the database cannot be reached (PostgreSQL restarting, failing over, the network gone) every request that
/// needs it answers 503 problem+json <c>StoreUnavailable</c> with <c>Retry-After</c>, which agents and scripts wait
/// out, never a 500 or the provider's exception text. A database that is there but whose connections are all in use
/// (the pool exhausted, or the gateway's share of it: <see cref="Gateway.GatewayStoreLane"/>) is a different thing
/// to an operator, and answers 503 <c>ServerBusy</c>. The cause goes to the log.
/// </summary>
public sealed class StoreUnavailableHandler(ILogger<StoreUnavailableHandler> logger) : IExceptionHandler
{
    /// <summary>How long a client is asked to wait before it tries again.</summary>
    public const int RetryAfterSeconds = 5;

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var busy = IsServerBusy(exception);
        if (!busy && !IsStoreUnavailable(exception) || httpContext.Response.HasStarted)
        {
            return false;
        }
        var reason = busy ? Innermost(exception, e => e is ServerBusyException or NpgsqlException).Message : Innermost(exception).Message;
        logger.LogWarning("{Method} {Path} answered 503: {What} ({Reason})", httpContext.Request.Method, httpContext.Request.Path.Value,
            busy ? "every database connection it may use is busy" : "the database is not reachable", reason);
        httpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var problem = busy
            ? Problems.Rule(StatusCodes.Status503ServiceUnavailable, "Server busy", "ServerBusy",
                "The server is busy: every database connection it may use is taken; try again shortly.")
            : Problems.Rule(StatusCodes.Status503ServiceUnavailable, "Database unavailable", "StoreUnavailable",
                "The database is not reachable; try again shortly.");
        await problem.ExecuteAsync(httpContext);
        return true;
    }

    /// <summary>
    /// Whether connections ran out, not the database: the gateway's lane stayed full, Npgsql's pool had no
    /// connection to give within its timeout (Npgsql says so only in its message, which the tests check against the
    /// pinned version), or PostgreSQL refused one more client (<c>max_connections</c>).
    /// </summary>
    public static bool IsServerBusy(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is ServerBusyException
                || e is PostgresException { SqlState: PostgresErrorCodes.TooManyConnections }
                || e is NpgsqlException && e.Message.StartsWith("The connection pool has been exhausted", StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Whether the exception (or one it wraps: EF Core's DbUpdateException and transient-failure wrappers) says the
    /// database could not be reached or is shutting down, as opposed to a statement it refused.
    /// </summary>
    public static bool IsStoreUnavailable(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            var unavailable = e switch
            {
                // Terminated by an administrator, crash or shutdown, starting up, connection errors (too many clients is busy).
                PostgresException postgres => postgres.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown
                    or PostgresErrorCodes.CannotConnectNow
                    || postgres.SqlState.StartsWith("08", StringComparison.Ordinal),
                NpgsqlException npgsql => npgsql.IsTransient || npgsql.InnerException is SocketException or IOException or TimeoutException,
                SocketException => true,
                // SQLITE_BUSY, SQLITE_LOCKED (a writer held the file past the busy timeout), SQLITE_CANTOPEN.
                SqliteException sqlite => sqlite.SqliteErrorCode is 5 or 6 or 14,
                _ => false,
            };
            if (unavailable)
            {
                return true;
            }
        }
        return false;
    }

    private static Exception Innermost(Exception exception, Func<Exception, bool>? stopAt = null)
    {
        var e = exception;
        while (e.InnerException is not null && stopAt?.Invoke(e) != true)
        {
            e = e.InnerException;
        }
        return e;
    }
}
