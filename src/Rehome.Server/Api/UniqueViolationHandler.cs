using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Rehome.Server.Api;

/// <summary>
/// Two requests that create the same name or device at the same moment both pass the API's "already exists"
/// check; the unique index stops the second. It gets a 409 problem like the checked case, not a 500.
/// </summary>
public sealed class UniqueViolationHandler : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (!IsUniqueViolation(exception))
        {
            return false;
        }
        await Problems.Conflict("AlreadyExists",
                "The same name or device exists already (made by another request at the same moment, or where you cannot see it); reload and try again.")
            .ExecuteAsync(httpContext);
        return true;
    }

    /// <summary>A unique index refused a write: through EF Core, or from the bulk writers' own commands (the raw provider exception).</summary>
    public static bool IsUniqueViolation(Exception exception) => (exception is DbUpdateException { InnerException: { } inner } ? inner : exception) switch
    {
        // SQLITE_CONSTRAINT_UNIQUE and SQLITE_CONSTRAINT_PRIMARYKEY
        SqliteException sqlite => sqlite.SqliteExtendedErrorCode is 2067 or 1555,
        PostgresException postgres => postgres.SqlState == PostgresErrorCodes.UniqueViolation,
        _ => false,
    };
}
