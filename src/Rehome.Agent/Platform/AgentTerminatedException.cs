namespace Rehome.Agent.Platform;

/// <summary>
/// The agent's process ends here (the device restarts, or a simulated crash): nothing after this point runs,
/// and the next start takes over from the journal. Never caught by steps or the runner.
/// </summary>
public class AgentTerminatedException(string message) : Exception(message);

/// <summary>The device restarts by the job's own request (the end of a rejoin).</summary>
public sealed class DeviceRestartingException(string reason) : AgentTerminatedException($"The device restarts: {reason}");
