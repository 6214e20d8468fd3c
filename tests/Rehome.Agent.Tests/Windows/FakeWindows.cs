using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Rehome.Agent.Platform.Windows;

namespace Rehome.Agent.Tests.Windows;

/// <summary>netapi32 as a dictionary-backed state: joins change it as Windows does before the restart.</summary>
internal sealed class FakeNetSetup(List<string> calls) : INetSetup
{
    public JoinStatus Status { get; set; } = JoinStatus.Workgroup;

    public string? JoinName { get; set; } = "WORKGROUP";

    public PrimaryDomain Primary { get; set; } = new(null, null);

    public Dictionary<string, int> DomainControllers { get; } = new(StringComparer.OrdinalIgnoreCase);

    public int UnjoinResult { get; set; }

    public int JoinResult { get; set; }

    public int OfflineJoinResult { get; set; }

    public (int Result, SecureChannel Channel) SecureChannelAnswer { get; set; } = (0, new SecureChannel(0, @"\\dc1.fabrikam.com"));

    public uint LastJoinOptions { get; private set; }

    public string? LastJoinPassword { get; private set; }

    public string? LastJoinAccount { get; private set; }

    public string? LastJoinOu { get; private set; }

    public byte[]? LastOfflineBlob { get; private set; }

    public int GetJoinInformation(out string? name, out JoinStatus status)
    {
        name = JoinName;
        status = Status;
        return 0;
    }

    public int GetPrimaryDomain(out PrimaryDomain domain)
    {
        domain = Primary;
        return 0;
    }

    public int UnjoinDomain(uint options)
    {
        calls.Add($"NetUnjoinDomain(0x{options:X})");
        if (UnjoinResult == 0)
        {
            Status = JoinStatus.Workgroup;
            JoinName = "WORKGROUP";
            Primary = new PrimaryDomain(null, null);
        }

        return UnjoinResult;
    }

    public int JoinDomain(string domain, string? machineAccountOu, string? account, string? password, uint options)
    {
        calls.Add($"NetJoinDomain({domain})");
        (LastJoinOptions, LastJoinPassword, LastJoinAccount, LastJoinOu) = (options, password, account, machineAccountOu);
        if (JoinResult == 0)
        {
            // An online join changes the LSA's primary domain at once; the name follows at the restart.
            Status = JoinStatus.Domain;
            Primary = new PrimaryDomain(domain.Split('.')[0].ToUpperInvariant(), domain);
        }

        return JoinResult;
    }

    public int RequestOfflineDomainJoin(byte[] provisioningData, uint options, string windowsPath)
    {
        calls.Add($"NetRequestOfflineDomainJoin(0x{options:X}, {windowsPath})");
        LastOfflineBlob = provisioningData;
        return OfflineJoinResult;
    }

    public int GetDcName(string domain, uint flags, out string? domainController)
    {
        calls.Add($"DsGetDcName({domain}, 0x{flags:X})");
        var result = DomainControllers.GetValueOrDefault(domain, WindowsErrors.NerrDcNotFound);
        domainController = result == 0 ? $@"\\dc1.{domain}" : null;
        return result;
    }

    public int QuerySecureChannel(string domain, out SecureChannel channel)
    {
        calls.Add($"I_NetLogonControl2({domain})");
        channel = SecureChannelAnswer.Channel;
        return SecureChannelAnswer.Result;
    }

    public void JoinedTo(string domain)
    {
        Status = JoinStatus.Domain;
        JoinName = domain.Split('.')[0].ToUpperInvariant();
        Primary = new PrimaryDomain(JoinName, domain);
    }
}

internal sealed class FakeNaming(List<string> calls) : IComputerNaming
{
    public string ActiveName { get; set; } = "PC01";

    public string? PendingName { get; set; } = "PC01";

    public int SetResult { get; set; }

    public int SetPhysicalDnsHostname(string name)
    {
        calls.Add($"SetComputerNameEx({name})");
        if (SetResult == 0)
        {
            PendingName = name;
        }

        return SetResult;
    }
}

internal sealed class FakeShutdown(List<string> calls) : IShutdown
{
    public int PrivilegeResult { get; set; }

    public int ShutdownResult { get; set; }

    public uint LastFlags { get; private set; }

    public int EnableShutdownPrivilege()
    {
        calls.Add("EnableShutdownPrivilege");
        return PrivilegeResult;
    }

    public int InitiateShutdown(string message, uint gracePeriodSeconds, uint flags, uint reason)
    {
        calls.Add($"InitiateShutdown({gracePeriodSeconds})");
        LastFlags = flags;
        return ShutdownResult;
    }
}

internal sealed class FakePowerRequests(List<string> calls) : IPowerRequests
{
    public int CreateResult { get; set; }

    public Dictionary<PowerRequestType, int> SetResults { get; } = [];

    public int Create(string reason, out nint request)
    {
        calls.Add($"PowerCreateRequest({reason})");
        request = CreateResult == 0 ? 42 : 0;
        return CreateResult;
    }

    public int Set(nint request, PowerRequestType type)
    {
        calls.Add($"PowerSetRequest({request}, {type})");
        return SetResults.GetValueOrDefault(type);
    }

    public int Clear(nint request, PowerRequestType type)
    {
        calls.Add($"PowerClearRequest({request}, {type})");
        return 0;
    }

    public void Close(nint request) => calls.Add($"CloseHandle({request})");
}

/// <summary>Tools answer what the test scripted for them; every run is recorded with its arguments.</summary>
internal sealed class FakeTools(List<string> calls) : IProcessRunner
{
    public Func<WindowsTool, IReadOnlyList<string>, ToolResult> Answer { get; set; } = (_, _) => new ToolResult(0, "", "");

    public string DsregcmdStatus { get; set; } = "";

    public List<(WindowsTool Tool, IReadOnlyList<string> Arguments)> Runs { get; } = [];

    public Task<ToolResult> RunAsync(WindowsTool tool, IReadOnlyList<string> arguments, CancellationToken ct)
    {
        calls.Add($"{tool} {string.Join(' ', arguments)}");
        Runs.Add((tool, arguments));
        return Task.FromResult(tool == WindowsTool.Dsregcmd && arguments is ["/status"]
            ? new ToolResult(0, DsregcmdStatus, "")
            : Answer(tool, arguments));
    }
}

internal sealed class FakeRegistry(List<string> calls) : IMachineRegistry
{
    public EntraJoin? Entra { get; set; }

    public List<MdmEnrollment> Enrollments { get; } = [];

    public EntraJoin? ReadEntraJoin() => Entra;

    public IReadOnlyList<MdmEnrollment> ReadEnrollments() => [.. Enrollments];

    public void DeleteEnrollment(string id)
    {
        calls.Add($"DeleteEnrollment({id})");
        Enrollments.RemoveAll(e => e.Id == id);
    }
}

internal sealed class FakeErrors : IWin32Errors
{
    private readonly Dictionary<int, string> texts = new()
    {
        [5] = "Access is denied.",
        [1311] = "There are currently no logon servers available to service the logon request.",
        [1355] = "The specified domain either does not exist or could not be contacted.",
        [1787] = "The security database on the server does not have a computer account for this workstation trust relationship.",
        [2691] = "The machine is already joined to the domain.",
        [2692] = "The machine is not currently joined to a domain.",
    };

    public string Describe(int code) => texts.GetValueOrDefault(code, "");
}

/// <summary>No ACLs on Linux: the folder is made, and "sealing" marks the bytes so tests see a secret is never plain.</summary>
internal sealed class MarkingProtection : IStagingProtection
{
    private static readonly byte[] Mark = "sealed:"u8.ToArray();

    public List<string> SecuredFolders { get; } = [];

    public void SecureFolder(string folder)
    {
        SecuredFolders.Add(folder);
        Directory.CreateDirectory(folder);
    }

    public byte[] Seal(byte[] secret) => [.. Mark, .. secret.Select(b => (byte)(b ^ 0x5A))];

    public byte[] Unseal(byte[] sealedSecret) => [.. sealedSecret.Skip(Mark.Length).Select(b => (byte)(b ^ 0x5A))];
}

/// <summary>A Windows device made of fakes: every call lands in <see cref="Calls"/>, in order.</summary>
internal sealed class FakeWindowsDevice : IDisposable
{
    public const string WindowsFolder = @"C:\Windows";

    public FakeWindowsDevice()
    {
        NetSetup = new FakeNetSetup(Calls);
        Naming = new FakeNaming(Calls);
        Shutdown = new FakeShutdown(Calls);
        PowerRequests = new FakePowerRequests(Calls);
        Tools = new FakeTools(Calls);
        Registry = new FakeRegistry(Calls);
        Folder = Path.Combine(Path.GetTempPath(), "rehome-win-" + Guid.NewGuid().ToString("N"));
        Staging = new WindowsJoinStaging(Path.Combine(Folder, "staging"), Protection);
        var system = new WindowsSystem(NetSetup, Naming, Shutdown, PowerRequests, Tools, Registry, new FakeErrors());
        Membership = new WindowsMembership(system, Staging, () => Boots, WindowsFolder, NullLogger.Instance);
        Power = new WindowsPower(system, () => Boots, NullLogger.Instance, Time);
    }

    public List<string> Calls { get; } = [];

    public FakeTimeProvider Time { get; } = new();

    public FakeNetSetup NetSetup { get; }

    public FakeNaming Naming { get; }

    public FakeShutdown Shutdown { get; }

    public FakePowerRequests PowerRequests { get; }

    public FakeTools Tools { get; }

    public FakeRegistry Registry { get; }

    public MarkingProtection Protection { get; } = new();

    public string Folder { get; }

    public WindowsJoinStaging Staging { get; }

    public WindowsMembership Membership { get; }

    public WindowsPower Power { get; }

    public long Boots { get; set; } = 7;

    /// <summary>What Windows does at a restart that the fakes need: a new boot, the pending name active.</summary>
    public void Restart()
    {
        Boots++;
        Naming.ActiveName = Naming.PendingName ?? Naming.ActiveName;
    }

    public string StagedFile(string name) => Path.Combine(Staging.Folder, name);

    public static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    public void Dispose()
    {
        if (Directory.Exists(Folder))
        {
            Directory.Delete(Folder, recursive: true);
        }
    }
}
