using Npgsql;
using Rehome.Cli.Client;
using Rehome.Cli.Rehearsal;
using Rehome.Core.Runs;

namespace Rehome.Agents.Bench;

/// <summary>
/// pickup-replicas: two server processes on one PostgreSQL (a fresh database in the cluster of
/// <c>REHOME_BENCH_POSTGRES</c>), the agents spread evenly over both, all long-polling; the run is started through
/// replica A, and the time from OK to each agent's job is reported for A's agents and B's apart. B learns of the
/// new jobs only through PostgreSQL's NOTIFY: the recheck (the fallback) is set to its longest, 10 minutes.
/// </summary>
public static class PickupReplicasMode
{
    public static async Task RunAsync(string root, int agents)
    {
        var admin = Environment.GetEnvironmentVariable("REHOME_BENCH_POSTGRES")
            ?? throw new InvalidOperationException("REHOME_BENCH_POSTGRES is not set: a PostgreSQL connection string with the right to create databases (bench/run.sh starts a throwaway cluster).");
        var database = "rehome_bench_" + Guid.NewGuid().ToString("N")[..12];
        await ExecuteAsync(admin, $"CREATE DATABASE {database}");
        var connectionString = new NpgsqlConnectionStringBuilder(admin) { Database = database }.ToString();
        var replicas = new List<ServerProcess>();
        try
        {
            foreach (var name in (string[])["A", "B"])
            {
                // One after the other: the first migrates the empty database and creates the administrator.
                replicas.Add(await ServerProcess.StartAsync(name, Path.Combine(root, "logs"), new Dictionary<string, string>
                {
                    ["Rehome:Store:Provider"] = "PostgreSql",
                    ["Rehome:Store:ConnectionString"] = connectionString,
                    ["Rehome:Store:DataDirectory"] = Path.Combine(root, "server-" + name),
                    ["Rehome:Bootstrap:AdminPassword"] = ServerProcess.AdminPassword,
                    ["Rehome:Directories:Mode"] = "Simulated",
                    ["Rehome:Runs:TickInterval"] = "00:00:00.200",
                    ["Rehome:Gateway:RecheckInterval"] = "00:10:00",
                    ["Rehome:Gateway:EnrollmentsPerMinute"] = "1000000",
                    ["Logging:LogLevel:Default"] = "Warning",
                }));
            }
            var (a, b) = (replicas[0], replicas[1]);
            Console.WriteLine($"replicas A (pid {a.Pid}, {a.Address}) and B (pid {b.Pid}, {b.Address}) on database {database}; recheck 10 min");
            using var api = new RehomeApiClient(a.Address, await a.SignInAsync());
            var scenario = new RehearsalScenario(api, root, new RehearsalOptions { Devices = agents, Jobs = [JobKind.MigrateEntraIdGroups] });
            await scenario.SetUpAsync(CancellationToken.None);

            // Agent i enrolls with and polls replica i % 2, as behind a round-robin that keeps a device on one replica.
            using var httpA = Fleet.Client(a.Address);
            using var httpB = Fleet.Client(b.Address);
            var onA = Enumerable.Range(0, agents).Where(i => i % 2 == 0).ToArray();
            var onB = Enumerable.Range(0, agents).Where(i => i % 2 == 1).ToArray();
            var credentials = new string[agents];
            foreach (var (http, group) in (IEnumerable<(HttpClient, int[])>)[(httpA, onA), (httpB, onB)])
            {
                var enrolled = await Fleet.EnrollAsync(http, scenario.ConfigurationKey, group);
                for (var k = 0; k < group.Length; k++)
                {
                    credentials[group[k]] = enrolled[k];
                }
            }
            var pickups = new Pickups(agents);
            var pollers = Enumerable.Range(0, agents).Select(i => pickups.PollUntilJobAsync(i % 2 == 0 ? httpA : httpB, credentials[i], i)).ToList();
            var (ok, answered) = await pickups.StartWhenAllWaitAsync(() => scenario.StartRunAsync(CancellationToken.None));
            await Task.WhenAll(pollers);
            Console.WriteLine($"OK (through A) answered in {answered.TotalMilliseconds:F0} ms; pickup (OK → the agent holds its job):");
            Console.WriteLine($"  {onA.Length:N0} agents on A (woken in the process): {Fleet.Spread(pickups.Since(ok, onA))}");
            Console.WriteLine($"  {onB.Length:N0} agents on B (woken by NOTIFY):     {Fleet.Spread(pickups.Since(ok, onB))}");
            Console.WriteLine($"  all {agents:N0}: {Fleet.Spread(pickups.Since(ok, Enumerable.Range(0, agents)))}");
        }
        finally
        {
            foreach (var replica in replicas)
            {
                await replica.DisposeAsync();
            }
            NpgsqlConnection.ClearAllPools();
            await ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {database} WITH (FORCE)");
        }
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
