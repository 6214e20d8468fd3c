using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Rehome.Agent.Platform;
using Rehome.Agent.Platform.Simulated;
using Rehome.Cli.Client;
using Rehome.Core.Runs;
using Rehome.Server.Directories;

namespace Rehome.Cli.Rehearsal;

/// <summary>What a rehearsal runs.</summary>
public sealed record RehearsalOptions
{
    public int Devices { get; init; } = 100;

    public IReadOnlyList<JobKind> Jobs { get; init; } = Enum.GetValues<JobKind>();

    /// <summary>Faults given to the first <see cref="FaultyDevices"/> devices.</summary>
    public SimulatedFaults Faults { get; init; } = new();

    public int FaultyDevices { get; init; }

    public int FilesPerUser { get; init; } = 12;

    /// <summary>Seconds each agent's poll waits at the server.</summary>
    public int PollSeconds { get; init; } = 25;

    /// <summary>
    /// The destination: Entra ID with offline enrollment (every job can run), or Active Directory with offline
    /// join, where the server prepares each device's computer object and join data first (no Autopilot).
    /// </summary>
    public bool ActiveDirectoryDestination { get; init; }

    /// <summary>
    /// The real Samba domains to rehearse against instead of the simulated ones (Active Directory source and
    /// offline-join destination, made by the server's Connected directories); null for the simulation.
    /// </summary>
    public SambaRehearsal? Samba { get; init; }

    /// <summary>Connections the in-process fleet may hold (see <see cref="SimulatedFleet.MaxConnections"/>).</summary>
    public int MaxConnections { get; init; } = int.MaxValue;

    /// <summary>Processes the devices' agents run in (<see cref="RehearsalAgents"/>); 0: in the rehearsal's own, beside the server.</summary>
    public int FleetProcesses { get; init; }

    /// <summary>
    /// Lay the devices out in memory (<see cref="SimulatedFleet.DevicesFolder"/>), removed when the rehearsal ends: on one
    /// disk thousands of devices' journal writes queue behind each other and their lease renewals come late, where each
    /// real device has a disk of its own. The store stays on disk.
    /// </summary>
    public bool DevicesInMemory { get; init; }
}

/// <summary>
/// The rehearsal's world: a simulated source (Contoso, Active Directory with Entra ID) and destination
/// (Fabrikam, Entra ID with offline enrollment), a project with one mapping per simulated device, each device
/// with a real agent over HTTP. Used by <c>rehome rehearse</c>, the end-to-end tests and the benchmarks.
/// </summary>
public sealed class RehearsalScenario(RehomeApiClient client, string root, RehearsalOptions options)
{
    public const string ProjectName = "Rehearsal";

    public Guid ProjectId { get; private set; }

    public string ConfigurationKey { get; private set; } = "";

    /// <summary>Where the devices are laid out: under the rehearsal's folder, or in memory (<see cref="RehearsalOptions.DevicesInMemory"/>).</summary>
    public string DevicesRoot { get; } = options.DevicesInMemory
        ? SimulatedFleet.DevicesFolder(Path.Combine(root, "devices"),
            $"rehome-rehearsal-{Path.GetFileName(Path.GetFullPath(root))}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..12]}")
        : Path.Combine(root, "devices");

    /// <summary>Read, write and enter for this user alone: the devices hold their credentials and keys.</summary>
    public const UnixFileMode PrivateFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>
    /// Makes the in-memory folder (under /dev/shm, which every local user can write) readable by this user alone
    /// before any device secret is written there, and refuses one that is not: made beforehand by someone else, or
    /// left open. It sits right in /dev/shm, whose sticky bit keeps others from renaming or removing it, under a name
    /// nobody can guess beforehand (a shared parent folder of fixed name would let its maker swap ours after the check).
    /// </summary>
    private void CreateDevicesFolderInMemory()
    {
        var folder = Path.GetDirectoryName(DevicesRoot)!;
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        System.IO.Directory.CreateDirectory(folder, PrivateFolder);
        System.IO.Directory.CreateDirectory(DevicesRoot, PrivateFolder);
        foreach (var made in (string[])[folder, DevicesRoot])
        {
            var mode = File.GetUnixFileMode(made);
            if (mode != PrivateFolder)
            {
                throw new IOException($"The devices' folder in memory {made} is open to other users ({mode}); remove it, or lay the devices out on disk.");
            }
        }
    }

    /// <summary>Whether the devices are laid out in memory (asked for, and the machine has /dev/shm).</summary>
    private bool InMemory => options.DevicesInMemory && DevicesRoot != Path.Combine(root, "devices");

    /// <summary>Removes devices laid out in memory (they would hold the machine's memory until it restarts); devices on disk stay to be looked at.</summary>
    public void RemoveDevicesInMemory()
    {
        var inMemory = Path.GetDirectoryName(DevicesRoot)!;
        if (InMemory && System.IO.Directory.Exists(inMemory))
        {
            System.IO.Directory.Delete(inMemory, recursive: true);
        }
    }

    /// <summary>Who the devices' users and groups are.</summary>
    public RehearsalIdentities Identities { get; private set; } = RehearsalIdentities.Simulated;

    /// <summary>
    /// The start of the destination names: fixed for the simulation; new for each rehearsal against real domains,
    /// whose computer accounts outlive it.
    /// </summary>
    public string DestinationPrefix { get; } = options.Samba is null ? "FAB-PC" : "R" + Guid.NewGuid().ToString("N")[..4].ToUpperInvariant() + "-";

    /// <summary>Device i's destination name in this rehearsal.</summary>
    public string DestinationNameOf(int i) => string.Create(CultureInfo.InvariantCulture, $"{DestinationPrefix}{i:D5}");

    /// <summary>The mapping of each device, by device name.</summary>
    public Dictionary<string, Guid> Mappings { get; } = new(StringComparer.OrdinalIgnoreCase);

    public static string DeviceName(int i) => string.Create(CultureInfo.InvariantCulture, $"CTS-PC{i:D5}");

    /// <summary>Device i's destination name in the simulation.</summary>
    public static string DestinationName(int i) => string.Create(CultureInfo.InvariantCulture, $"FAB-PC{i:D5}");

    public static string UserName(int i) => string.Create(CultureInfo.InvariantCulture, $"user{i:D5}");

    /// <summary>Creates the connections, the policy, the project and its mappings through the REST API.</summary>
    public async Task SetUpAsync(CancellationToken ct)
    {
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var (source, destination, policy) = options.Samba is { } samba
            ? await SambaConnectionsAsync(samba, suffix, ct)
            : await SimulatedConnectionsAsync(suffix, ct);
        ConfigurationKey = (string)source["configurationKey"]!;
        var project = await client.PostAsync("/api/v1/projects", new
        {
            name = $"{ProjectName} {suffix}",
            tags = new[] { "rehearsal" },
            sourceConnectionId = source["connection"]!["id"]!.GetValue<Guid>(),
            destinationConnectionId = destination["connection"]!["id"]!.GetValue<Guid>(),
            policyId = policy["id"]!.GetValue<Guid>(),
        }, ct);
        ProjectId = project["id"]!.GetValue<Guid>();
        var csv = new StringBuilder("SourceDevice,DestinationName,DestinationOU,PrimaryUser,DestinationUser\n");
        for (var i = 1; i <= options.Devices; i++)
        {
            var user = Identities.User(i).Name;
            csv.Append(CultureInfo.InvariantCulture,
                $"{DeviceName(i)},{DestinationNameOf(i)},,{Identities.SourceNetBiosName}\\{user},{user}@{Identities.DestinationDnsName}\n");
        }
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(csv.ToString()));
        await client.PostCsvAsync($"/api/v1/projects/{ProjectId}/mappings/import", stream, ct);
        for (var page = 1; Mappings.Count < options.Devices; page++)
        {
            var list = await client.GetAsync($"/api/v1/projects/{ProjectId}/mappings?page={page}&pageSize=1000", ct);
            var items = list["items"]!.AsArray();
            if (items.Count == 0)
            {
                break;
            }
            foreach (var item in items)
            {
                Mappings[(string)item!["sourceDevice"]!] = item["id"]!.GetValue<Guid>();
            }
        }
    }

    /// <summary>The simulated Contoso source and Fabrikam destination (Entra ID, or Active Directory with offline join).</summary>
    private async Task<(JsonNode Source, JsonNode Destination, JsonNode Policy)> SimulatedConnectionsAsync(string suffix, CancellationToken ct)
    {
        var source = await client.PostAsync("/api/v1/connections", new
        {
            name = $"Contoso (simulated source {suffix})",
            role = "Source",
            kind = "HybridIdentity",
            source = new { domainDnsName = SimulatedIdentities.SourceDnsName, entraId = new { tenantId = Guid.NewGuid(), clientId = Guid.NewGuid(), clientSecret = "simulated-not-a-secret", enabled = true } },
        }, ct);
        var destination = await client.PostAsync("/api/v1/connections", options.ActiveDirectoryDestination
            ? new
            {
                name = $"Fabrikam AD (simulated destination {suffix})",
                role = "Destination",
                kind = "ActiveDirectory",
                destination = (object)new
                {
                    domainDnsName = SimulatedIdentities.DestinationDnsName,
                    targetOu = "OU=Migrated,DC=fabrikam,DC=example",
                    rejoinMethod = "Offline",
                },
            }
            : new
            {
                name = $"Fabrikam (simulated destination {suffix})",
                role = "Destination",
                kind = "EntraId",
                destination = (object)new
                {
                    rejoinMethod = "Offline",
                    bulkEnrollmentTokenExpiresAt = DateTimeOffset.UtcNow.AddDays(30),
                },
            }, ct);
        if (!options.ActiveDirectoryDestination)
        {
            // The package is a file the server keeps encrypted and streams to each device with its lease.
            using var package = new MemoryStream(Encoding.UTF8.GetBytes("simulated provisioning package"));
            await client.PutFileAsync($"/api/v1/connections/{destination["connection"]!["id"]}/bulk-enrollment-package", package, ct);
        }
        var policy = await client.PostAsync("/api/v1/policies", new
        {
            name = $"Rehearsal policy {suffix}",
            settings = new { autopilot = new { register = true } },
        }, ct);
        return (source, destination, policy);
    }

    /// <summary>
    /// The devices' own computer accounts in the source domain (kept across rehearsals): a device leaves its
    /// source only with a return ticket, which the server makes for the account it has there.
    /// </summary>
    private async Task EnsureSourceComputersAsync(SambaRehearsal samba, CancellationToken ct)
    {
        using var source = new Directory.ActiveDirectory.LdapActiveDirectoryDirectory(samba.Options(samba.SourceAddress, samba.SourceDnsName));
        var computers = "CN=Computers," + string.Join(',', samba.SourceDnsName.Split('.').Select(part => "DC=" + part));
        for (var i = 1; i <= options.Devices; i++)
        {
            var made = await source.EnsureComputerAccountAsync(new Directory.ActiveDirectory.ComputerAccountRequest(DeviceName(i), computers, ReuseExisting: true), ct);
            if (made.Outcome == Directory.ActiveDirectory.ComputerAccountOutcome.Refused)
            {
                throw new InvalidOperationException($"{samba.SourceDnsName} refused the computer account {DeviceName(i)}: {made.Message}");
            }
        }
    }

    /// <summary>The Samba pair: the source domain read over LDAP, the destination where the server provisions offline joins.</summary>
    private async Task<(JsonNode Source, JsonNode Destination, JsonNode Policy)> SambaConnectionsAsync(SambaRehearsal samba, string suffix, CancellationToken ct)
    {
        Identities = await RehearsalIdentities.ReadAsync(samba, ct);
        await EnsureSourceComputersAsync(samba, ct);
        var source = await client.PostAsync("/api/v1/connections", new
        {
            name = $"{samba.SourceDnsName} (Samba source {suffix})",
            role = "Source",
            kind = "ActiveDirectory",
            source = new
            {
                domainDnsName = samba.SourceDnsName,
                domainController = samba.SourceAddress,
                serviceAccountName = $"Administrator@{samba.SourceDnsName}",
                serviceAccountPassword = samba.Password,
            },
        }, ct);
        var destination = await client.PostAsync("/api/v1/connections", new
        {
            name = $"{samba.DestinationDnsName} (Samba destination {suffix})",
            role = "Destination",
            kind = "ActiveDirectory",
            destination = new
            {
                domainDnsName = samba.DestinationDnsName,
                domainController = samba.DestinationAddress,
                targetOu = samba.DestinationOu,
                rejoinMethod = "Offline",
                serviceAccountName = $"Administrator@{samba.DestinationDnsName}",
                serviceAccountPassword = samba.Password,
            },
        }, ct);
        var policy = await client.PostAsync("/api/v1/policies", new
        {
            name = $"Rehearsal policy {suffix}",
            settings = new
            {
                identityMapping = new
                {
                    upnPrefixAutoMapping = true,
                    domains = new[] { new { source = Identities.SourceNetBiosName, destination = Identities.DestinationNetBiosName } },
                },
            },
        }, ct);
        return (source, destination, policy);
    }

    /// <summary>Lays out the simulated devices (not started).</summary>
    public SimulatedFleet CreateFleet(Uri server, ILoggerFactory loggers)
    {
        if (InMemory)
        {
            CreateDevicesFolderInMemory();
        }
        var fleet = new SimulatedFleet(server, DevicesRoot, ConfigurationKey, loggers)
        {
            PollSeconds = options.PollSeconds,
            MaxConnections = options.MaxConnections,
        };
        for (var i = 1; i <= options.Devices; i++)
        {
            fleet.Add(DeviceSpec(i, i <= options.FaultyDevices ? options.Faults : new SimulatedFaults(), options.FilesPerUser, Identities));
        }
        return fleet;
    }

    /// <summary>A device of the source domain whose primary user is user i; every device also holds a colleague's profile.</summary>
    public static SimulatedDeviceSpec DeviceSpec(int i, SimulatedFaults faults, int filesPerUser = 12, RehearsalIdentities? identities = null)
    {
        identities ??= RehearsalIdentities.Simulated;
        var (user, userSid) = identities.User(i);
        var (colleague, colleagueSid) = identities.Colleague(i);
        return new SimulatedDeviceSpec
        {
            DeviceName = DeviceName(i),
            JoinType = identities == RehearsalIdentities.Simulated ? Protocol.DeviceJoinType.HybridEntraId : Protocol.DeviceJoinType.ActiveDirectory,
            DomainName = identities.SourceDnsName,
            TenantId = null,
            Users = [new SimulatedUser(user, userSid), new SimulatedUser(colleague, colleagueSid)],
            Groups = [.. identities.Groups(i)],
            FilesPerUser = filesPerUser,
            PromptAnswers = [PromptAnswer.StartNow],
            Faults = faults,
        };
    }

    public async Task<Guid> StartRunAsync(CancellationToken ct)
    {
        var answer = await client.PostAsync($"/api/v1/projects/{ProjectId}/runs", new { kinds = options.Jobs.Select(k => k.ToString()).ToArray(), filter = new { } }, ct);
        return Guid.Parse((string)answer["run"]!["id"]!);
    }

    public Task<JsonNode> StatusAsync(Guid runId, CancellationToken ct) => client.GetAsync($"/api/v1/runs/{runId}", ct);

    /// <summary>
    /// What each job of each device should end as: Finished, except where a fault makes a step fail. Before the
    /// device leaves its source that job is rolled back and Failed (and for a rejoin the jobs waiting for it
    /// too); after it, a rejoin whose join cannot complete goes back to its source (Failed), and a failure once the
    /// device is in its destination ends the job with Exceptions. Crashes, slowness and outages must not change the end.
    /// </summary>
    public JobStatus Expected(int device, JobKind kind)
    {
        if (device > options.FaultyDevices || options.Faults.FailStep is not { } step)
        {
            return JobStatus.Finished;
        }
        var own = Plan(kind).EndWhenAlwaysFailing(step);
        var rejoin = options.Jobs.Contains(JobKind.RejoinDomain) ? Plan(JobKind.RejoinDomain).EndWhenAlwaysFailing(step) : null;
        if (own == Protocol.CompletionStatus.Failed || (rejoin == Protocol.CompletionStatus.Failed && kind.NeedsRejoin()))
        {
            return JobStatus.Failed;
        }
        return own == Protocol.CompletionStatus.Exceptions ? JobStatus.Exceptions : JobStatus.Finished;
    }

    /// <summary>Where each device should belong at the end: in its source when its rejoin failed, else in the destination (when the run rejoins).</summary>
    public bool ExpectedInSource(int device) =>
        !options.Jobs.Contains(JobKind.RejoinDomain)
        || (device <= options.FaultyDevices && options.Faults.FailStep is { } step && Plan(JobKind.RejoinDomain).EndWhenAlwaysFailing(step) == Protocol.CompletionStatus.Failed);

    private static Agent.Jobs.JobPlan Plan(JobKind kind) =>
        Agent.Jobs.JobPlans.For((Protocol.AgentJobKind)kind, new Protocol.DeviceFacts { DeviceName = "", OsVersion = "", AgentVersion = "" });
}
