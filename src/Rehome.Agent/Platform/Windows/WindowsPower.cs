namespace Rehome.Agent.Platform.Windows;

/// <summary>
/// Boots, restarts and staying awake on Windows, through the native seam: the boot count from
/// <see cref="WindowsBootCounter"/>, restarts through InitiateShutdown, and a power request (not a per-thread
/// execution state, which a service thread pool would lose) that keeps the system from sleeping while a job works.
/// </summary>
internal sealed class WindowsPower(WindowsSystem system, Func<long> bootCount, ILogger logger, TimeProvider? time = null) : IDevicePower
{
    internal const uint RestartGraceSeconds = 30;

    /// <summary>
    /// How long after asking the agent waits for Windows to end it: the grace period and a margin for the services
    /// to stop. A restart that has not come by then was aborted; the runtime ends and the journal asks again.
    /// </summary>
    internal static readonly TimeSpan RestartWait = TimeSpan.FromSeconds(RestartGraceSeconds + 60);

    private readonly TimeProvider time = time ?? TimeProvider.System;
    internal const uint ShutdownForceOthers = 0x1;
    internal const uint ShutdownRestart = 0x4;

    /// <summary>SHTDN_REASON_FLAG_PLANNED | SHTDN_REASON_MAJOR_OPERATINGSYSTEM | SHTDN_REASON_MINOR_RECONFIG.</summary>
    internal const uint ReasonPlannedReconfiguration = 0x80000000 | 0x00020000 | 0x00000004;

    /// <summary>
    /// What the request holds: the system out of idle sleep, and the agent's process running where Windows would
    /// otherwise suspend it (Modern Standby). Away mode is not asked for: it would make a sleep look like one.
    /// </summary>
    internal static readonly PowerRequestType[] Held = [PowerRequestType.SystemRequired, PowerRequestType.ExecutionRequired];

    public long BootCount => bootCount();

    public async Task RestartAsync(string reason, CancellationToken ct)
    {
        WindowsErrors.Check(system.Errors, system.Shutdown.EnableShutdownPrivilege(), "AdjustTokenPrivileges(SeShutdownPrivilege)");
        var status = system.Shutdown.InitiateShutdown(reason, RestartGraceSeconds, ShutdownRestart | ShutdownForceOthers, ReasonPlannedReconfiguration);
        // A restart already under way (someone else's, or ours before a crash) restarts the device just the same.
        if (status != WindowsErrors.Success && WindowsErrors.Classify(status) != WindowsErrorKind.ShutdownUnderway)
        {
            throw WindowsErrors.Failure(system.Errors, status, "InitiateShutdown");
        }

        logger.LogInformation("Restarting in {Seconds} s: {Reason}", RestartGraceSeconds, reason);
        // Waiting here, not ending at once, keeps a new runtime from asking again every moment of the grace period.
        try
        {
            await Task.Delay(RestartWait, time, ct);
            logger.LogWarning("No restart came within {Wait}: somebody aborted it; the job asks again from its journal", RestartWait);
        }
        catch (OperationCanceledException)
        {
            // The service is being stopped: by the restart, as asked.
        }

        throw new DeviceRestartingException(reason);
    }

    /// <summary>
    /// Holds a power request until disposed. When Windows refuses one, the job goes on without it (a device that
    /// sleeps pauses the job, which resumes from its journal) and the refusal is logged.
    /// </summary>
    public IDisposable KeepAwake(string reason)
    {
        var created = system.PowerRequests.Create(reason, out var request);
        if (created != WindowsErrors.Success)
        {
            logger.LogWarning("The device may sleep during the job: {Error}", WindowsErrors.Describe(system.Errors, created, "PowerCreateRequest"));
            return new PowerRequest(system.PowerRequests, 0, []);
        }

        var set = new List<PowerRequestType>();
        foreach (var type in Held)
        {
            var status = system.PowerRequests.Set(request, type);
            if (status == WindowsErrors.Success)
            {
                set.Add(type);
            }
            else
            {
                logger.LogWarning("Power request {Type} refused: {Error}", type, WindowsErrors.Describe(system.Errors, status, "PowerSetRequest"));
            }
        }

        return new PowerRequest(system.PowerRequests, request, set);
    }

    /// <summary>Clears what was set, in reverse order, and closes the request, once.</summary>
    private sealed class PowerRequest(IPowerRequests requests, nint handle, List<PowerRequestType> set) : IDisposable
    {
        private int released;

        public void Dispose()
        {
            if (handle == 0 || Interlocked.Exchange(ref released, 1) != 0)
            {
                return;
            }

            for (var i = set.Count - 1; i >= 0; i--)
            {
                _ = requests.Clear(handle, set[i]);
            }

            requests.Close(handle);
        }
    }
}
