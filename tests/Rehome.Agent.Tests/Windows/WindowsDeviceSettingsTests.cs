using System.Runtime.Versioning;
using Rehome.Agent.Jobs;
using Rehome.Agent.Platform.Windows;
using Rehome.Protocol;

namespace Rehome.Agent.Tests.Windows;

[SupportedOSPlatform("windows")]
public sealed class WindowsDeviceSettingsTests : IDisposable
{
    private const string OsVolumeId = "{6B1F3D9A-2C4E-4F8B-9A7D-1E2F3A4B5C6D}";
    private const string DataVolumeId = "{0D9C8B7A-6F5E-4D3C-2B1A-0F9E8D7C6B5A}";
    private const string UsbVolumeId = "{11111111-2222-3333-4444-555555555555}";
    private const string RecoveryPassword = "123456-234567-345678-456789-567890-678901-789012-890123";

    /// <summary>What the inventory script writes on a laptop with an OS volume, a data volume, a USB stick and a volume without a letter.</summary>
    private const string Inventory =
        $$"""[{"DriveLetter":"C:","VolumeType":0,"RecoveryPasswordIds":["{{OsVolumeId}}"]},{"DriveLetter":"D:","VolumeType":1,"RecoveryPasswordIds":["{{DataVolumeId}}"]},{"DriveLetter":"E:","VolumeType":2,"RecoveryPasswordIds":["{{UsbVolumeId}}"]},{"DriveLetter":null,"VolumeType":1,"RecoveryPasswordIds":[]}]""";

    /// <summary>DISM's export on a Windows 11 device (shortened).</summary>
    private const string Associations = """
        <?xml version="1.0" encoding="UTF-8"?>
        <DefaultAssociations>
          <Association Identifier=".htm" ProgId="MSEdgeHTM" ApplicationName="Microsoft Edge" />
          <Association Identifier=".pdf" ProgId="AcroExch.Document.DC" ApplicationName="Adobe Acrobat" />
          <Association Identifier="mailto" ProgId="Outlook.URL.mailto.15" ApplicationName="Outlook" />
        </DefaultAssociations>
        """;

    private readonly FakeSettingsTools tools = new();
    private readonly FakeRegistryValues registry = new();
    private readonly string folder = Directory.CreateTempSubdirectory("rehome-settings-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private WindowsDeviceSettings Settings() => new(tools, registry);

    private static DestinationJoin Join(JoinKind kind) => new() { Kind = kind, Offline = true, DomainDnsName = "contoso.com", TenantId = "0b5e9c3a-1d2f-4e6a-8b7c-9d0e1f2a3b4c", ComputerName = "PC-1" };

    [Fact]
    public void The_inventory_keeps_volumes_with_a_letter_and_guid_ids()
    {
        var volumes = BitLockerInventory.Parse(Inventory)!;

        Assert.Equal(["C:", "D:", "E:"], volumes.Select(v => v.MountPoint));
        Assert.Equal([true, true, false], volumes.Select(v => v.Fixed));
    }

    [Fact]
    public void Only_fixed_volumes_with_a_recovery_password_are_escrowed()
    {
        var volumes = BitLockerInventory.ToEscrow(BitLockerInventory.Parse(Inventory)!);

        Assert.Equal([OsVolumeId, DataVolumeId], volumes.SelectMany(v => v.RecoveryPasswordIds));
    }

    [Theory]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("\uFEFF[]\r\n")]
    public void No_volumes_is_an_empty_inventory(string output)
    {
        Assert.Empty(BitLockerInventory.Parse(output)!);
    }

    [Fact]
    public void A_single_volume_written_as_an_object_is_read()
    {
        var volumes = BitLockerInventory.Parse($$"""{"DriveLetter":"c:","VolumeType":0,"RecoveryPasswordIds":"{{OsVolumeId.ToLowerInvariant()}}"}""")!;

        Assert.Equal(new[] { ("C:", OsVolumeId) }, volumes.Select(v => (v.MountPoint, v.RecoveryPasswordIds.Single())));
    }

    [Theory]
    [InlineData("""[{"DriveLetter":"C:; Remove-Item C:\\ -Recurse","VolumeType":0,"RecoveryPasswordIds":["{6B1F3D9A-2C4E-4F8B-9A7D-1E2F3A4B5C6D}"]}]""")]
    [InlineData("""[{"DriveLetter":"C:","VolumeType":0,"RecoveryPasswordIds":["{6B1F3D9A}' ; Stop-Computer ; '"]}]""")]
    public void Letters_and_ids_that_are_not_what_they_should_be_are_left_out(string output)
    {
        Assert.Empty(BitLockerInventory.ToEscrow(BitLockerInventory.Parse(output)!));
    }

    [Fact]
    public void Output_that_is_not_the_scripts_json_is_unreadable()
    {
        Assert.Null(BitLockerInventory.Parse("Get-CimInstance : Invalid namespace \r\nAt line:1 char:1"));
    }

    [Fact]
    public void Recovery_passwords_are_redacted_from_tool_output()
    {
        var text = BitLockerInventory.Redact($"Numerical Password:\r\n  ID: {OsVolumeId}\r\n  Password:\r\n    {RecoveryPassword}");

        Assert.DoesNotContain(RecoveryPassword, text, StringComparison.Ordinal);
        Assert.Contains(OsVolumeId, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_Active_Directory_join_escrows_with_manage_bde()
    {
        tools.Answer = (tool, _) => tool == SettingsTool.PowerShell ? new ToolResult(0, Inventory, "") : new ToolResult(0, "", "");

        var count = await Settings().EscrowBitLockerKeysAsync(Join(JoinKind.ActiveDirectory), CancellationToken.None);

        Assert.Equal(2, count);
        Assert.Equal(["-protectors", "-adbackup", "C:", "-id", OsVolumeId], tools.Runs[1].Arguments);
        Assert.Equal(SettingsTool.ManageBde, tools.Runs[2].Tool);
    }

    [Theory]
    [InlineData(JoinKind.ActiveDirectory, "ManageBde")]
    [InlineData(JoinKind.HybridIdentity, "ManageBde")]
    [InlineData(JoinKind.EntraId, "PowerShell")]
    public void The_escrow_target_follows_the_join_kind(JoinKind kind, string expected)
    {
        Assert.Equal(expected, WindowsDeviceSettings.EscrowCommand(kind, "C:", OsVolumeId).Tool.ToString());
    }

    [Fact]
    public void An_Entra_ID_join_escrows_with_BackupToAAD()
    {
        var (_, arguments) = WindowsDeviceSettings.EscrowCommand(JoinKind.EntraId, "D:", DataVolumeId);

        Assert.Equal($"BackupToAAD-BitLockerKeyProtector -MountPoint 'D:' -KeyProtectorId '{DataVolumeId}' | Out-Null", arguments[^1]);
    }

    [Fact]
    public async Task A_failed_escrow_is_reported_after_trying_every_volume_and_never_shows_a_password()
    {
        tools.Answer = (tool, arguments) => tool == SettingsTool.PowerShell ? new ToolResult(0, Inventory, "")
            : arguments.Contains("C:") ? new ToolResult(-2147024891, $"ERROR: Access is denied. {RecoveryPassword}", "")
            : new ToolResult(0, "", "");

        var failure = await Assert.ThrowsAsync<StepFailedException>(() => Settings().EscrowBitLockerKeysAsync(Join(JoinKind.ActiveDirectory), CancellationToken.None));

        Assert.Equal("BitLockerEscrowFailed", failure.Code);
        Assert.Equal(3, tools.Runs.Count);
        Assert.Contains("0x80070005", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(RecoveryPassword, failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreadable_inventory_fails_the_escrow()
    {
        tools.Answer = (_, _) => new ToolResult(1, "", "Get-CimInstance : Access denied");

        var failure = await Assert.ThrowsAsync<StepFailedException>(() => Settings().EscrowBitLockerKeysAsync(Join(JoinKind.EntraId), CancellationToken.None));

        Assert.Equal("BitLockerInventoryFailed", failure.Code);
    }

    [Fact]
    public async Task Exporting_runs_dism_and_keeps_the_file_with_associations()
    {
        var file = Path.Combine(folder, "apps.xml");
        tools.Answer = (_, arguments) =>
        {
            File.WriteAllText(arguments[1]["/Export-DefaultAppAssociations:".Length..], Associations);
            return new ToolResult(0, "The operation completed successfully.", "");
        };

        Assert.True(await Settings().ExportDefaultAppAssociationsAsync(file, CancellationToken.None));
        Assert.Equal(["/Online", $"/Export-DefaultAppAssociations:{file}"], tools.Runs.Single().Arguments);
    }

    [Fact]
    public async Task An_export_without_associations_is_none()
    {
        var file = Path.Combine(folder, "apps.xml");
        tools.Answer = (_, _) =>
        {
            File.WriteAllText(file, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<DefaultAssociations />");
            return new ToolResult(0, "", "");
        };

        Assert.False(await Settings().ExportDefaultAppAssociationsAsync(file, CancellationToken.None));
        Assert.False(File.Exists(file));
    }

    [Theory]
    [InlineData(740, "elevated")]
    [InlineData(87, "arguments")]
    [InlineData(-2146498529, "0x800F081F")]
    public async Task A_dism_failure_says_what_its_exit_code_means(int exitCode, string expected)
    {
        tools.Answer = (_, _) => new ToolResult(exitCode, "Error: " + exitCode, "");

        var failure = await Assert.ThrowsAsync<StepFailedException>(() => Settings().ExportDefaultAppAssociationsAsync(Path.Combine(folder, "apps.xml"), CancellationToken.None));

        Assert.Equal("DefaultAppsExportFailed", failure.Code);
        Assert.Contains(expected, failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_restart_required_is_a_successful_import()
    {
        var file = Path.Combine(folder, "apps.xml");
        await File.WriteAllTextAsync(file, Associations);
        tools.Answer = (_, _) => new ToolResult(3010, "", "");

        await Settings().ImportDefaultAppAssociationsAsync(file, CancellationToken.None);

        Assert.Equal($"/Import-DefaultAppAssociations:{file}", tools.Runs.Single().Arguments[1]);
    }

    [Fact]
    public async Task A_file_that_is_not_dism_xml_is_not_imported()
    {
        var file = Path.Combine(folder, "apps.xml");
        await File.WriteAllTextAsync(file, "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><DefaultAssociations>&e;</DefaultAssociations>");

        var failure = await Assert.ThrowsAsync<StepFailedException>(() => Settings().ImportDefaultAppAssociationsAsync(file, CancellationToken.None));

        Assert.Equal("DefaultAppsUnreadable", failure.Code);
        Assert.Empty(tools.Runs);
    }

    [Theory]
    [InlineData("10", 10)]
    [InlineData(" 0 ", 0)]
    [InlineData("50", 50)]
    [InlineData("-1", null)]
    [InlineData("ten", null)]
    [InlineData("", null)]
    public void CachedLogonsCount_is_read_from_its_string(string value, int? expected)
    {
        Assert.Equal(expected, WindowsDeviceSettings.CachedLogons(value));
    }

    [Fact]
    public void A_CachedLogonsCount_written_as_a_number_is_read_too()
    {
        Assert.Equal(25, WindowsDeviceSettings.CachedLogons(25));
        Assert.Null(WindowsDeviceSettings.CachedLogons(new byte[] { 1 }));
    }

    [Fact]
    public async Task CachedLogonsCount_is_written_as_a_string_and_null_deletes_it()
    {
        await Settings().SetCachedLogonsCountAsync(10, CancellationToken.None);
        Assert.Equal("10", registry.Get(WindowsDeviceSettings.WinlogonKey, WindowsDeviceSettings.CachedLogonsValue));
        Assert.Equal(10, await Settings().GetCachedLogonsCountAsync(CancellationToken.None));

        await Settings().SetCachedLogonsCountAsync(null, CancellationToken.None);
        Assert.Null(registry.Get(WindowsDeviceSettings.WinlogonKey, WindowsDeviceSettings.CachedLogonsValue));
    }

    [Fact]
    public async Task A_count_Windows_does_not_take_is_refused()
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Settings().SetCachedLogonsCountAsync(51, CancellationToken.None));
    }
}
