using Rehome.Directory.EntraId;

namespace Rehome.Directory.Tests.EntraId;

public sealed class AutopilotTests : IAsyncLifetime
{
    private static readonly byte[] HardwareHash = [.. Enumerable.Range(0, 256).Select(value => (byte)value)];
    private FakeGraphServer source = null!;
    private FakeGraphServer destination = null!;

    public async Task InitializeAsync()
    {
        source = await FakeGraphServer.StartAsync("Source Inc", "src.example");
        destination = await FakeGraphServer.StartAsync("Destination Ltd", "dst.example");
    }

    public async Task DisposeAsync()
    {
        await source.DisposeAsync();
        await destination.DisposeAsync();
    }

    [Fact]
    public async Task An_import_is_polled_until_it_leaves_unknown_and_pending_and_sends_the_decoded_hash_and_group_tag()
    {
        using var directory = destination.Directory();

        var result = await directory.ImportAutopilotDeviceAsync(new AutopilotImportRequest("SN-100", Convert.ToBase64String(HardwareHash), "Kiosk"));

        Assert.Equal(AutopilotImportOutcome.Complete, result.Outcome);
        Assert.NotNull(result.ImportId);
        Assert.Equal(("SN-100", true), (result.SerialNumber, result.Message.StartsWith("Registered in Windows Autopilot", StringComparison.Ordinal)));
        var (identifier, groupTag) = destination.Imported("SN-100");
        Assert.Equal(HardwareHash, identifier);
        Assert.Equal("Kiosk", groupTag);
        // Unknown, pending, then complete: three reads of the import's status.
        Assert.Equal(3, destination.Requests().Count(request => request.StartsWith("GET /deviceManagement/importedWindowsAutopilotDeviceIdentities/", StringComparison.Ordinal)));
        Assert.Contains("SN-100", destination.AutopilotSerialNumbers());
    }

    [Fact]
    public async Task A_device_registered_in_another_tenant_is_reported_as_808_in_words()
    {
        destination.SerialNumbersOfOtherTenants.Add("SN-808");
        using var directory = destination.Directory();

        var result = await directory.ImportAutopilotDeviceAsync(new AutopilotImportRequest("SN-808", Convert.ToBase64String(HardwareHash), null));

        Assert.Equal(AutopilotImportOutcome.RegisteredInAnotherTenant, result.Outcome);
        Assert.Equal((808, "ZtdDeviceAssignedToOtherTenant"), (result.ErrorCode, result.ErrorName));
        Assert.Equal("The device SN-808 is registered in Windows Autopilot in another tenant (808 ZtdDeviceAssignedToOtherTenant); "
            + "it must be deregistered there first.", result.Message);
    }

    [Fact]
    public async Task A_device_already_registered_in_this_tenant_is_reported_as_806()
    {
        destination.AddAutopilotDevice("SN-806");
        using var directory = destination.Directory();

        var result = await directory.ImportAutopilotDeviceAsync(new AutopilotImportRequest("SN-806", Convert.ToBase64String(HardwareHash), null));

        Assert.Equal(AutopilotImportOutcome.AlreadyRegisteredInThisTenant, result.Outcome);
        Assert.Contains("already registered in Windows Autopilot in this tenant (806 ZtdDeviceAlreadyAssigned)", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_hardware_hash_that_is_not_base64_is_refused_before_graph_is_called()
    {
        using var directory = destination.Directory();

        var result = await directory.ImportAutopilotDeviceAsync(new AutopilotImportRequest("SN-BAD", "not base64!", null));

        Assert.Equal(AutopilotImportOutcome.Failed, result.Outcome);
        Assert.Null(result.ImportId);
        Assert.Contains("not valid base64", result.Message, StringComparison.Ordinal);
        Assert.Empty(destination.Requests());
    }

    [Fact]
    public async Task An_import_still_processing_after_the_wait_is_reported_with_its_id_and_can_be_awaited_later()
    {
        destination.ImportReadsUntilDone = 5;
        using var impatient = new GraphEntraIdDirectory(destination.Options() with { AutopilotImportWait = TimeSpan.Zero }, new TestTokenCredential());
        using var patient = destination.Directory();

        var first = await impatient.ImportAutopilotDeviceAsync(new AutopilotImportRequest("SN-SLOW", Convert.ToBase64String(HardwareHash), null));
        var later = await patient.WaitForAutopilotImportAsync(first.ImportId!);

        Assert.Equal(AutopilotImportOutcome.Processing, first.Outcome);
        Assert.Equal(AutopilotImportOutcome.Complete, later.Outcome);
        Assert.Equal(first.ImportId, later.ImportId);
    }

    [Fact]
    public async Task The_source_registration_is_removed_once_the_destination_import_completed()
    {
        source.AddAutopilotDevice("SN-MOVE", "Old tag");
        source.AddAutopilotDevice("SN-MOVE-2");
        using var sourceDirectory = source.Directory();
        using var destinationDirectory = destination.Directory();

        var result = await AutopilotTransfer.RunAsync(destinationDirectory, sourceDirectory,
            new AutopilotImportRequest("SN-MOVE", Convert.ToBase64String(HardwareHash), "New tag"));

        Assert.True(result.Registered);
        Assert.Single(result.RemovedSourceRegistrations);
        Assert.Equal(["SN-MOVE-2"], source.AutopilotSerialNumbers());
        Assert.Contains("SN-MOVE", destination.AutopilotSerialNumbers());
        // The destination's last status read (the one that said complete) came before the source's deletion.
        var lastStatusRead = destination.SequencedRequests().Last(request => request.Request.StartsWith("GET /deviceManagement/imported", StringComparison.Ordinal));
        var deletion = Assert.Single(source.SequencedRequests(), request => request.Request.StartsWith("DELETE", StringComparison.Ordinal));
        Assert.True(deletion.Sequence > lastStatusRead.Sequence);
        Assert.EndsWith("The source registration was removed.", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_source_registration_stays_when_the_destination_import_fails()
    {
        source.AddAutopilotDevice("SN-STAY");
        destination.SerialNumbersOfOtherTenants.Add("SN-STAY");
        using var sourceDirectory = source.Directory();
        using var destinationDirectory = destination.Directory();

        var result = await AutopilotTransfer.RunAsync(destinationDirectory, sourceDirectory,
            new AutopilotImportRequest("SN-STAY", Convert.ToBase64String(HardwareHash), null));

        Assert.False(result.Registered);
        Assert.Empty(result.RemovedSourceRegistrations);
        Assert.Equal(["SN-STAY"], source.AutopilotSerialNumbers());
        Assert.DoesNotContain(source.Requests(), request => request.StartsWith("DELETE", StringComparison.Ordinal));
        Assert.EndsWith("The source registration was left in place.", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_source_registration_stays_while_the_destination_import_is_still_processing()
    {
        source.AddAutopilotDevice("SN-WAIT");
        destination.ImportReadsUntilDone = 5;
        using var sourceDirectory = source.Directory();
        using var destinationDirectory = new GraphEntraIdDirectory(destination.Options() with { AutopilotImportWait = TimeSpan.Zero }, new TestTokenCredential());

        var result = await AutopilotTransfer.RunAsync(destinationDirectory, sourceDirectory,
            new AutopilotImportRequest("SN-WAIT", Convert.ToBase64String(HardwareHash), null));

        Assert.Equal(AutopilotImportOutcome.Processing, result.Import.Outcome);
        Assert.Equal(["SN-WAIT"], source.AutopilotSerialNumbers());
        Assert.Empty(source.Requests());
    }
}
