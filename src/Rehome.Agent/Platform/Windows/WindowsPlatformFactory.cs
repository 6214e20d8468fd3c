using System.Runtime.Versioning;

namespace Rehome.Agent.Platform.Windows;

/// <summary>Builds the real Windows device platform for the service.</summary>
[SupportedOSPlatform("windows")]
public static class WindowsPlatformFactory
{
    /// <summary>The device, its users, no injected faults, and a plain HTTP handler.</summary>
    /// <param name="logger">Where the platform and sessions log what they did to the device; none when null.</param>
    /// <param name="stateFolder">The agent's protected folder (<see cref="AgentOptions.StateFolder"/>); its default when null.</param>
    public static (IDevicePlatform Platform, IUserSession Session, IStepFaults? Faults, HttpMessageHandler Handler) Create(ILogger? logger = null, string? stateFolder = null) =>
        Create(new WindowsLocalAccounts(logger), new WindowsDeviceSettings(logger), new WindowsUserSession(logger), logger, stateFolder);

    /// <summary>The device composed with the given accounts, settings and session (the parts other classes own).</summary>
    public static (IDevicePlatform Platform, IUserSession Session, IStepFaults? Faults, HttpMessageHandler Handler) Create(
        ILocalAccounts accounts, IDeviceSettings settings, IUserSession session, ILogger? logger = null, string? stateFolder = null) =>
        (new WindowsDevicePlatform(accounts, settings, logger, stateFolder: stateFolder), session, null, new SocketsHttpHandler());
}
