using System.Runtime.Versioning;

namespace Rehome.Agent.Platform.Windows;

/// <summary>Builds the real Windows device platform for the service.</summary>
[SupportedOSPlatform("windows")]
public static class WindowsPlatformFactory
{
    /// <summary>The device, its users, no injected faults, and a plain HTTP handler.</summary>
    /// <param name="logger">Where the platform and sessions log what they did to the device; none when null.</param>
    public static (IDevicePlatform Platform, IUserSession Session, IStepFaults? Faults, HttpMessageHandler Handler) Create(ILogger? logger = null) =>
        throw new PlatformNotSupportedException("Branch contract: the Windows platform is being rewritten.");
}
