using System.Diagnostics;
using Npgsql;

namespace Rehome.Fault.Tests;

/// <summary>
/// The fault tests' own PostgreSQL cluster (scripts/start/15-postgres-faults.sh): a database per test, and a stop
/// and start of the whole cluster that no other test project notices.
/// </summary>
public static class FaultPostgres
{
    private static string Setting(string name) => Environment.GetEnvironmentVariable(name)
        ?? throw new InvalidOperationException(
            $"{name} is not set: run the tests with ./test.sh, whose scripts/start/15-postgres-faults.sh starts the fault tests' PostgreSQL cluster.");

    private static string Admin => Setting("REHOME_TEST_FAULT_POSTGRES");

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public static async Task<string> CreateDatabaseAsync()
    {
        var name = "rehome_fault_" + Guid.NewGuid().ToString("N");
        await ExecuteAsync($"CREATE DATABASE {name}");
        return new NpgsqlConnectionStringBuilder(Admin) { Database = name }.ToString();
    }

    public static async Task DropDatabaseAsync(string connectionString)
    {
        NpgsqlConnection.ClearAllPools();
        await ExecuteAsync($"DROP DATABASE IF EXISTS {new NpgsqlConnectionStringBuilder(connectionString).Database} WITH (FORCE)");
    }

    /// <summary>Stops the cluster at once (fast shutdown: every connection is cut, as when the database server goes down).</summary>
    public static Task StopAsync() => PgCtlAsync("-D", Setting("REHOME_TEST_FAULT_PGDATA"), "-m", "fast", "-w", "stop");

    /// <summary>Starts the cluster again with its settings and waits until it accepts connections.</summary>
    public static Task StartAsync() => PgCtlAsync("-D", Setting("REHOME_TEST_FAULT_PGDATA"), "-l", Setting("REHOME_TEST_FAULT_PGLOG"), "-w", "start");

    private static async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(Admin);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>pg_ctl as the cluster's owner (PostgreSQL refuses to run as root).</summary>
    private static async Task PgCtlAsync(params string[] arguments)
    {
        var user = Environment.GetEnvironmentVariable("REHOME_TEST_FAULT_PGUSER");
        var asOwner = !string.IsNullOrEmpty(user) && Environment.UserName == "root";
        var start = new ProcessStartInfo(asOwner ? "runuser" : Setting("REHOME_TEST_FAULT_PGCTL"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (asOwner)
        {
            foreach (var part in new[] { "-u", user!, "--", Setting("REHOME_TEST_FAULT_PGCTL") })
            {
                start.ArgumentList.Add(part);
            }
        }
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var pgCtl = Process.Start(start)!;
        var output = pgCtl.StandardOutput.ReadToEndAsync();
        var errors = pgCtl.StandardError.ReadToEndAsync();
        await pgCtl.WaitForExitAsync();
        if (pgCtl.ExitCode != 0)
        {
            throw new InvalidOperationException($"pg_ctl {string.Join(' ', arguments)} failed ({pgCtl.ExitCode}): {await output}{await errors}");
        }
    }
}
