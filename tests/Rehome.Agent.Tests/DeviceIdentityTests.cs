using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Rehome.Agent.Enrollment;
using Rehome.Agent.Platform.Simulated;
using Rehome.Agent.Platform.Windows;
using Rehome.Agent.Polling;
using Rehome.Protocol;

namespace Rehome.Agent.Tests;

/// <summary>The device's own identity: its hardware id, its key where the OS keeps it, and the proofs the agent sends.</summary>
public sealed class DeviceIdentityTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("rehome-device-identity-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private static byte[] Smbios(params byte[][] structures)
    {
        var table = structures.SelectMany(s => s).ToArray();
        return [0, 3, 4, 0, .. BitConverter.GetBytes((uint)table.Length), .. table];
    }

    private static byte[] Structure(byte type, byte[] formatted, params string[] strings)
    {
        byte[] head = [type, (byte)(formatted.Length + 4), 0, 0];
        var text = strings.Length == 0 ? new byte[] { 0, 0 } : [.. strings.SelectMany(s => System.Text.Encoding.ASCII.GetBytes(s + "\0")), 0];
        return [.. head, .. formatted, .. text];
    }

    private static byte[] SystemInformation(Guid uuid) => Structure(1, [1, 2, 3, 4, .. uuid.ToByteArray(), 6, 0, 0, 0], "Contoso", "Laptop", "1.0", "SN-1");

    [Fact]
    public void The_SMBIOS_system_uuid_is_read_from_the_type_1_structure_after_the_structures_before_it()
    {
        var uuid = Guid.Parse("4c4c4544-0042-3010-8052-b4c04f383232");
        var raw = Smbios(Structure(0, new byte[0x14], "Vendor", "1.2.3", "01/01/2026"), SystemInformation(uuid), Structure(127, []));

        Assert.Equal(uuid, SmbiosTables.SystemUuid(raw));
    }

    [Fact]
    public void A_system_uuid_the_firmware_left_unset_or_a_truncated_table_reads_as_none()
    {
        Assert.Null(SmbiosTables.SystemUuid(Smbios(SystemInformation(Guid.Empty))));
        Assert.Null(SmbiosTables.SystemUuid(Smbios(SystemInformation(new Guid(Enumerable.Repeat((byte)0xFF, 16).ToArray())))));
        Assert.Null(SmbiosTables.SystemUuid(Smbios(SystemInformation(Guid.NewGuid()))[..20]));
        Assert.Null(SmbiosTables.SystemUuid([1, 2, 3]));
    }

    [Fact]
    public void The_device_key_is_made_in_the_TPM_and_in_software_only_when_the_TPM_refuses()
    {
        var withTpm = new FakeKeyStore(tpm: true);
        var withoutTpm = new FakeKeyStore(tpm: false);
        var reasons = new List<string>();

        using var inTpm = DeviceKeyProviders.OpenOrCreate(withTpm, e => reasons.Add(e.Message));
        using var inSoftware = DeviceKeyProviders.OpenOrCreate(withoutTpm, e => reasons.Add(e.Message));

        Assert.Equal(DeviceKeyProviders.Platform, inTpm.KeptIn);
        Assert.Equal(DeviceKeyProviders.Software, inSoftware.KeptIn);
        Assert.Equal(["no TPM"], reasons);
    }

    [Fact]
    public void A_device_key_made_before_is_opened_where_it_is_kept_and_none_is_made()
    {
        var store = new FakeKeyStore(tpm: true);
        store.Kept[DeviceKeyProviders.Software] = new FakeKey(DeviceKeyProviders.Software);

        using var key = DeviceKeyProviders.OpenOrCreate(store, _ => { });

        Assert.Equal(DeviceKeyProviders.Software, key.KeptIn);
        Assert.Equal(0, store.Created);
    }

    [Fact]
    public void The_simulated_device_keeps_one_key_in_a_file_only_its_account_reads_and_its_signatures_verify()
    {
        var identity = new FolderDeviceIdentity(folder);

        using var first = identity.OpenOrCreateKey();
        using var again = identity.OpenOrCreateKey();

        Assert.Equal(first.PublicKey, again.PublicKey);
        Assert.Equal(identity.ReadHardwareId(), new FolderDeviceIdentity(folder).ReadHardwareId());
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(folder, "device-key.p8")));
        }
        using var verifier = ECDsa.Create();
        verifier.ImportSubjectPublicKeyInfo(first.PublicKey, out _);
        Assert.True(verifier.VerifyData("hello"u8, again.Sign("hello"u8.ToArray()), HashAlgorithmName.SHA256));
    }

    [Fact]
    public async Task An_agent_whose_enrollment_is_held_asks_again_with_the_same_key_and_works_once_approved()
    {
        var device = Path.Combine(folder, "device");
        SimulatedDeviceBuilder.Create(device, new SimulatedDeviceSpec { DeviceName = "CTS-PC00001", DomainName = "contoso.example", Users = [], LoggedOn = false });
        var options = new AgentOptions
        {
            ServerUrl = "http://rehome.test",
            ConfigurationKey = "key-1",
            StateFolder = Path.Combine(folder, "state"),
            PollSeconds = 1,
            ApprovalRetrySeconds = 0,
        };
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var server = new ApprovingServer(heldTimes: 2, stop);
        using var http = new HttpClient(server) { BaseAddress = new Uri(options.ServerUrl) };
        var platform = new SimulatedDevicePlatform(device, new NetworkGate(), TimeProvider.System);
        var runtime = new AgentRuntime(options, platform, platform.Session, null, new GatewayClient(http), TimeProvider.System, NullLogger.Instance);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => runtime.RunAsync(stop.Token));

        Assert.Equal(3, server.Proofs.Count);
        Assert.Single(server.Proofs.Select(p => p.PublicKey).Distinct());
        Assert.All(server.Proofs, p => Assert.Equal(new FolderDeviceIdentity(device).ReadHardwareId(), p.HardwareId));
        Assert.True(runtime.Identity!.DeviceKeyBound);
        Assert.Equal(server.ApprovedId, runtime.Identity.AgentId);
    }

    private sealed class ApprovingServer(int heldTimes, CancellationTokenSource stop) : HttpMessageHandler
    {
        public List<DeviceProof> Proofs { get; } = [];

        public Guid ApprovedId { get; } = Guid.NewGuid();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var path = request.RequestUri!.AbsolutePath;
            if (path.EndsWith("/enroll", StringComparison.Ordinal))
            {
                var enroll = JsonSerializer.Deserialize<EnrollRequest>(await request.Content!.ReadAsStringAsync(cancellationToken), AgentProtocol.JsonOptions)!;
                Proofs.Add(enroll.Proof!);
                var held = Proofs.Count <= heldTimes;
                var answer = held ? new EnrollResponse(ApprovedId, null, null, AwaitingApproval: true) : new EnrollResponse(ApprovedId, "credential", null);
                return new HttpResponseMessage(held ? HttpStatusCode.Accepted : HttpStatusCode.OK)
                {
                    Content = new StringContent(JsonSerializer.Serialize(answer, AgentProtocol.JsonOptions), System.Text.Encoding.UTF8, "application/json"),
                };
            }
            if (path.Contains("/poll", StringComparison.Ordinal))
            {
                await stop.CancelAsync();
            }
            return new HttpResponseMessage(HttpStatusCode.NoContent);
        }
    }

    private sealed class FakeKey(string provider) : IDeviceKey
    {
        public byte[] PublicKey { get; } = [1];

        public string KeptIn => provider;

        public byte[] Sign(byte[] data) => data;

        public void Dispose()
        {
        }
    }

    private sealed class FakeKeyStore(bool tpm) : IMachineKeyStore
    {
        public Dictionary<string, IDeviceKey> Kept { get; } = [];

        public int Created { get; private set; }

        public IDeviceKey? Open(string provider, string name) => Kept.GetValueOrDefault(provider);

        public IDeviceKey Create(string provider, string name)
        {
            if (provider == DeviceKeyProviders.Platform && !tpm)
            {
                throw new CryptographicException("no TPM");
            }
            Created++;
            return Kept[provider] = new FakeKey(provider);
        }
    }
}
