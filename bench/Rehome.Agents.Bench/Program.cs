using System.Diagnostics;
using System.Globalization;
using System.Net;
using Rehome.Agents.Bench;
using Rehome.Cli.Commands;
using Rehome.Cli.Rehearsal;
using Spectre.Console;

// Agent gateway benchmarks (issues 4 and 14). Each mode prints its figures and the machine's facts (cores, load
// average at start and end); nothing here asserts a time.
//   pickup          [agents=1000]                OK → the agent's first step, over real HTTP, every agent long-polling
//   pickup-replicas [agents=1000]                the same with two server processes on one PostgreSQL (REHOME_BENCH_POSTGRES)
//   polls           [agents=10000] [seconds=10]  idle polls per second the gateway answers with that many agents waiting
//   polls-ratio     [agents=1000] [seconds=10]   authenticated polls per second: the gateway against a bare Kestrel endpoint
//   hold            [agents=50000] [http1|http2] every agent holding a long poll on one server process: its memory
//   memory          [mappings=100000] [agents=10000] [wait=25] [seconds=60]  one server process, that many mappings and agents
//                                                holding polls of `wait` s: its memory, and bytes allocated per idle poll
//                                                against bare Kestrel's per request and per held poll (the same
//                                                agents, wait and connections), measured in the same run; any
//                                                Key=Value after them is a server setting
//   rehearse        [devices=10000]              wall time of `rehome rehearse` through all five jobs, the fleet in its own
//                                                processes; the server's CPU per job and peak working set
// The *-client modes are the fleet's side of a mode, started by it as child processes.
var mode = args.Length > 0 ? args[0] : "pickup";
int Argument(int index, int otherwise) => args.Length > index ? int.Parse(args[index], CultureInfo.InvariantCulture) : otherwise;
var number = Argument(1, mode switch
{
    "pickup" or "pickup-replicas" or "polls-ratio" => 1000,
    "hold" => 50_000,
    "memory" => 100_000,
    _ => 10_000,
});
switch (mode)
{
    case "polls-client":
        await PollsMode.ClientAsync(new Uri(args[2]), args[3], number, Argument(4, 10));
        return 0;
    case "polls-ratio-client":
        await PollsRatioMode.ClientAsync(new Uri(args[2]), new Uri(args[3]), args[4], number, Argument(5, 10));
        return 0;
    case "hold-client":
        await HoldMode.ClientAsync(new Uri(args[2]), args[3], Argument(4, 0), number, IPAddress.Parse(args[5]), args[6] == "http2", Argument(7, 55));
        return 0;
    case "bare-client":
        await MemoryMode.BareClientAsync(new Uri(args[2]), number);
        return 0;
}

var root = Path.Combine(Path.GetTempPath(), "rehome-agents-bench-" + Guid.NewGuid().ToString("N")[..8]);
var clock = Stopwatch.StartNew();
Console.WriteLine($"{mode} with {number:N0}; {Environment.ProcessorCount} cores; load average {LoadAverage()} at start; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; folder {root}");
try
{
    switch (mode)
    {
        case "pickup":
            await PickupMode.RunAsync(root, number);
            break;
        case "pickup-replicas":
            await PickupReplicasMode.RunAsync(root, number);
            break;
        case "polls":
            await PollsMode.RunAsync(root, number, Argument(2, 10));
            break;
        case "polls-ratio":
            await PollsRatioMode.RunAsync(root, number, Argument(2, 10));
            break;
        case "hold":
            await HoldMode.RunAsync(root, number, http2: args.Length > 2 && args[2] == "http2");
            break;
        case "memory":
            await MemoryMode.RunAsync(root, number, Argument(2, 10_000), Argument(3, 25), Argument(4, 60), args.Skip(5));
            break;
        case "rehearse":
            var options = new RehearsalOptions
            {
                Devices = number,
                FilesPerUser = 3,
                PollSeconds = 10,
                MaxConnections = Math.Max(100, (RehearseCommand.FileDescriptorLimit() - 6000) / 2),
                // The devices in processes of their own (issue 16), so that the server's CPU per job is its own.
                FleetProcesses = Math.Max(1, RehearseCommand.DefaultFleetProcesses(number)),
                DevicesInMemory = RehearseCommand.DefaultDevicesInMemory(number),
            };
            var exit = await RehearseCommand.RunAsync(new CliContext(AnsiConsole.Console), options, root, "http://127.0.0.1:0", exitWhenOver: true, CancellationToken.None);
            Console.WriteLine($"rehearsal of {number:N0} devices × 5 jobs: {clock.Elapsed.TotalSeconds:F1} s wall time from launch, exit code {exit}");
            break;
        default:
            Console.Error.WriteLine("Modes: pickup [agents], pickup-replicas [agents], polls [agents] [seconds], polls-ratio [agents] [seconds], hold [agents] [http1|http2], memory [mappings] [agents] [wait] [seconds], rehearse [devices].");
            return 2;
    }
    return 0;
}
finally
{
    Console.WriteLine($"{mode} over after {clock.Elapsed.TotalSeconds:F0} s; load average {LoadAverage()} at end");
    try
    {
        System.IO.Directory.Delete(root, recursive: true);
    }
    catch (IOException)
    {
    }
}

// The 1, 5 and 15 minute load averages: the two cores are shared, so every figure says how busy they were.
static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ')[..3]) : "unknown";
