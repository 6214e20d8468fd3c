using System.Runtime.Versioning;

namespace Rehome.Agent.Platform.Windows;

/// <summary>Builds the real Windows device platform for the service.</summary>
[SupportedOSPlatform("windows")]
public static class WindowsPlatformFactory
{
    /// <summary>The device, its users, no injected faults, and a plain HTTP handler.</summary>
    /// <param name="logger">Where the platform and sessions log what they did to the device; none when null.</param>
    public static (IDevicePlatform Platform, IUserSession Session, IStepFaults? Faults, HttpMessageHandler Handler) Create(ILogger? logger = null) =>
        Create(new WindowsLocalAccounts(logger), new WindowsDeviceSettings(logger), new WindowsUserSession(logger), logger);

    /// <summary>The device composed with the given accounts, settings and session (the parts other classes own).</summary>
    public static (IDevicePlatform Platform, IUserSession Session, IStepFaults? Faults, HttpMessageHandler Handler) Create(
        ILocalAccounts accounts, IDeviceSettings settings, IUserSession session, ILogger? logger = null) =>
        (new WindowsDevicePlatform(accounts, settings, logger), session, null, new SocketsHttpHandler());
}
