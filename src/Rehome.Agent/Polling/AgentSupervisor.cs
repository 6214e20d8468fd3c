using Rehome.Agent.Platform;

namespace Rehome.Agent.Polling;

/// <summary>How one agent runtime ended.</summary>
public enum AgentExit
{
    Stopped,
    Restarted,
    Crashed,
    Refused,

    /// <summary>The agent handed over to another version of itself, which starts in its place.</summary>
    HandedOver,
}

/// <summary>
/// Runs an agent runtime again each time it ends by a device restart or a crash, as Windows' service manager
/// (or systemd) starts the service again after a reboot: nothing survives but the state folder.
/// </summary>
public static class AgentSupervisor
{
    public static async Task<AgentExit> RunOnceAsync(AgentRuntime runtime, ILogger logger, CancellationToken ct)
    {
        try
        {
            await runtime.RunAsync(ct);
            return AgentExit.Stopped;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return AgentExit.Stopped;
        }
        catch (DeviceRestartingException e)
        {
            logger.LogInformation("{Reason}", e.Message);
            return AgentExit.Restarted;
        }
        catch (AgentHandedOverException e)
        {
            logger.LogInformation("{Reason}", e.Message);
            return AgentExit.HandedOver;
        }
        catch (AgentTerminatedException e)
        {
            logger.LogWarning("{Reason}", e.Message);
            return AgentExit.Crashed;
        }
        catch (AgentRefusedException e)
        {
            logger.LogError("The server refuses this agent (revoked or removed): {Reason}. Enroll it again with a configuration key.", e.Message);
            return AgentExit.Refused;
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            // An unexpected fault (a timeout included) ends this runtime as a crash ends a service: the next one
            // resumes from the journal.
            logger.LogError(e, "The agent failed; it starts again from its journal");
            await Task.Delay(AgentTimings.RestartAfterCrash, ct);
            return AgentExit.Crashed;
        }
    }

    /// <summary>Starts a fresh runtime from <paramref name="start"/> after every restart or crash, until stopped or refused.</summary>
    public static async Task<AgentExit> RunAsync(Func<AgentRuntime> start, ILogger logger, CancellationToken ct)
    {
        while (true)
        {
            var exit = await RunOnceAsync(start(), logger, ct);
            if (exit is AgentExit.Stopped or AgentExit.Refused)
            {
                return exit;
            }
        }
    }
}
