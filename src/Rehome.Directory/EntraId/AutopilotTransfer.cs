namespace Rehome.Directory.EntraId;

/// <summary>The result of moving a device's Autopilot registration to the destination tenant.</summary>
/// <param name="Import">The destination import's result.</param>
/// <param name="RemovedSourceRegistrations">The source registrations removed (ids); empty when none were.</param>
/// <param name="Message">What happened, in words.</param>
public sealed record AutopilotTransferResult(AutopilotImportResult Import, IReadOnlyList<string> RemovedSourceRegistrations, string Message)
{
    /// <summary>True when the device is registered in the destination tenant.</summary>
    public bool Registered => Import.Outcome is AutopilotImportOutcome.Complete or AutopilotImportOutcome.AlreadyRegisteredInThisTenant;
}

/// <summary>
/// The Register Windows Autopilot job's directory work: import the hardware hash into the destination
/// tenant, and only once that import has completed remove the device's registration from the source
/// tenant, so that a failed or unfinished import never leaves the device registered nowhere.
/// </summary>
public static class AutopilotTransfer
{
    /// <summary>Imports into <paramref name="destination"/>, then removes the source registration when there is a source.</summary>
    public static async Task<AutopilotTransferResult> RunAsync(
        IEntraIdDirectory destination,
        IEntraIdDirectory? source,
        AutopilotImportRequest request,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(request);
        var import = await destination.ImportAutopilotDeviceAsync(request, cancellationToken);
        return await RemoveSourceAfterImportAsync(import, source, request.SerialNumber, cancellationToken);
    }

    /// <summary>
    /// The second half on its own, for an import that was still processing earlier and has been read
    /// again: removes the source registration only when <paramref name="import"/> has completed.
    /// </summary>
    public static async Task<AutopilotTransferResult> RemoveSourceAfterImportAsync(
        AutopilotImportResult import,
        IEntraIdDirectory? source,
        string serialNumber,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(import);
        var registered = import.Outcome is AutopilotImportOutcome.Complete or AutopilotImportOutcome.AlreadyRegisteredInThisTenant;
        if (!registered)
        {
            return new AutopilotTransferResult(import, [], $"{import.Message} The source registration was left in place.");
        }

        if (source is null)
        {
            return new AutopilotTransferResult(import, [], import.Message);
        }

        var removed = new List<string>();
        foreach (var registration in await source.FindAutopilotDevicesAsync(serialNumber, cancellationToken))
        {
            if (await source.DeleteAutopilotDeviceAsync(registration.Id, cancellationToken))
            {
                removed.Add(registration.Id);
            }
        }

        var what = removed.Count == 0 ? "The source tenant had no registration to remove." : "The source registration was removed.";
        return new AutopilotTransferResult(import, removed, $"{import.Message} {what}");
    }
}
