using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Rehome.Agent.Journal;
using Rehome.Agent.Platform;
using Rehome.Agent.Polling;
using Rehome.Agent.Uninstall;
using Rehome.Protocol;

namespace Rehome.Agent.Tests.Uninstall;

public sealed class AgentUninstallerTests : IDisposable
{
    private readonly string scratch = Directory.CreateTempSubdirectory("rehome-uninstall-").FullName;
    private readonly FakeRemoval removal;
    private readonly ConfirmingServer server = new();

    public AgentUninstallerTests()
    {
        removal = new FakeRemoval(DataRoot);
        Directory.CreateDirectory(Path.Combine(StateFolder, "jobs"));
        File.WriteAllText(Path.Combine(StateFolder, "jobs", "job.json"), "{}");
        File.WriteAllText(Path.Combine(StateFolder, "agent.json"), "{}");
        Directory.CreateDirectory(Path.Combine(DataRoot, "staging"));
        File.WriteAllText(Path.Combine(DataRoot, "agent.json"), "{}");
    }

    public void Dispose() => Directory.Delete(scratch, recursive: true);

    private string DataRoot => Path.Combine(scratch, "Rehome");

    private string StateFolder => Path.Combine(DataRoot, "Agent");

    private AgentUninstaller Uninstaller(IAgentRemoval? platform = null) =>
        new(StateFolder, platform ?? removal, Gateway(), TimeProvider.System, NullLogger.Instance);

    private GatewayClient Gateway()
    {
        var gateway = new GatewayClient(new HttpClient(server) { BaseAddress = new Uri("https://rehome.test/agent/v1/") });
        gateway.UseCredential("rha_credential");
        return gateway;
    }

    [Fact]
    public async Task An_uninstall_removes_the_same_data_root_as_the_local_uninstall_settings_and_join_staging_included()
    {
        await Uninstaller().RunAsync(CancellationToken.None);

        Assert.False(Directory.Exists(DataRoot), "agent.json, staging, logs and the state folder go with the data root");
        Assert.Equal(1, removal.SelfRemovals);
    }

    [Fact]
    public async Task The_confirmation_names_only_what_was_there_no_logs_without_a_logs_folder()
    {
        removal.HasDeviceKey = false;

        await Uninstaller().RunAsync(CancellationToken.None);

        Assert.Equal([UninstalledPart.Journals], Assert.Single(server.Reports).Removed);
    }

    [Fact]
    public async Task The_confirmation_names_the_logs_and_the_device_key_when_they_were_removed()
    {
        Directory.CreateDirectory(Path.Combine(DataRoot, "logs"));

        await Uninstaller().RunAsync(CancellationToken.None);

        Assert.Equal([UninstalledPart.Journals, UninstalledPart.Logs, UninstalledPart.DeviceKey], Assert.Single(server.Reports).Removed);
    }

    [Fact]
    public async Task An_uninstall_cut_short_while_removing_data_goes_on_and_still_names_what_went_before_the_crash()
    {
        // The crash came after the device key and the journals were removed, before the confirmation.
        Directory.Delete(Path.Combine(StateFolder, "jobs"), recursive: true);
        removal.HasDeviceKey = false;
        DurableFile.WriteJson(Path.Combine(StateFolder, "uninstall.json"), new UninstallRecord(UninstallPhase.RemovingData, [UninstalledPart.Journals, UninstalledPart.DeviceKey]));
        Assert.True(AgentUninstaller.IsPending(StateFolder));

        await Uninstaller().RunAsync(CancellationToken.None);

        Assert.Equal([UninstalledPart.Journals, UninstalledPart.DeviceKey], Assert.Single(server.Reports).Removed);
        Assert.Equal(1, removal.SelfRemovals);
        Assert.False(Directory.Exists(DataRoot));
        Assert.False(AgentUninstaller.IsPending(StateFolder));
    }

    [Fact]
    public async Task An_uninstall_cut_short_after_the_confirmation_does_not_confirm_again_and_removes_the_rest()
    {
        DurableFile.WriteJson(Path.Combine(StateFolder, "uninstall.json"), new UninstallRecord(UninstallPhase.Confirmed, [UninstalledPart.Journals]));

        await Uninstaller().RunAsync(CancellationToken.None);

        Assert.Empty(server.Reports);
        Assert.False(File.Exists(Path.Combine(StateFolder, "agent.json")), "the identity is gone");
        Assert.Equal(1, removal.SelfRemovals);
        Assert.False(Directory.Exists(DataRoot));
    }

    [Fact]
    public async Task A_platform_without_a_data_root_loses_only_the_state_folder()
    {
        var beside = Path.Combine(DataRoot, "agent.json");
        await Uninstaller(NoAgentRemoval.Instance).RunAsync(CancellationToken.None);

        Assert.False(Directory.Exists(StateFolder));
        Assert.True(File.Exists(beside));
    }

    private sealed class FakeRemoval(string dataRoot) : IAgentRemoval
    {
        public bool HasDeviceKey { get; set; } = true;

        public int SelfRemovals { get; private set; }

        public string? DataRoot => dataRoot;

        public bool RemoveDeviceKey()
        {
            var had = HasDeviceKey;
            HasDeviceKey = false;
            return had;
        }

        public IReadOnlyList<UninstalledPart> RemoveSelf()
        {
            SelfRemovals++;
            return [UninstalledPart.Service];
        }
    }

    /// <summary>The server's side of the confirmation: takes each report with 204.</summary>
    private sealed class ConfirmingServer : HttpMessageHandler
    {
        public List<UninstallReport> Reports { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Assert.EndsWith("/" + AgentUninstall.ConfirmPath, request.RequestUri!.AbsolutePath, StringComparison.Ordinal);
            Reports.Add((await request.Content!.ReadFromJsonAsync<UninstallReport>(AgentProtocol.JsonOptions, cancellationToken))!);
            return new HttpResponseMessage(HttpStatusCode.NoContent);
        }
    }
}
