using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using static Rehome.Agent.Platform.Windows.Installation.ServiceStructures;

namespace Rehome.Agent.Platform.Windows.Installation;

/// <summary>The installer's seam on Windows: the service control manager through advapi32.</summary>
[SupportedOSPlatform("windows")]
internal sealed partial class WindowsServiceControl : IServiceControl
{
    public ServiceRunState? Query(string name)
    {
        using var manager = OpenManager(ScManagerConnect);
        var service = OpenServiceW(manager.Handle, name, ServiceQueryStatus);
        if (service == 0)
        {
            var error = Marshal.GetLastPInvokeError();
            return error == ErrorServiceDoesNotExist ? null : throw Failure(error, $"OpenService({name})");
        }

        using var handle = new ScHandle(service);
        return QueryState(handle.Handle, name);
    }

    public IReadOnlyList<string> Create(ServiceDefinition definition)
    {
        using var manager = OpenManager(ScManagerConnect | ScManagerCreateService);
        var service = CreateServiceW(
            manager.Handle, definition.Name, definition.DisplayName, ServiceAllAccess, ServiceWin32OwnProcess, ServiceAutoStart,
            ServiceErrorNormal, definition.CommandLine, null, 0, null, null, null);
        if (service == 0)
        {
            throw Failure(Marshal.GetLastPInvokeError(), $"CreateService({definition.Name})");
        }

        using var handle = new ScHandle(service);
        return Configure(handle.Handle, definition);
    }

    public IReadOnlyList<string> Update(ServiceDefinition definition)
    {
        using var manager = OpenManager(ScManagerConnect);
        using var handle = OpenService(manager, definition.Name, ServiceAllAccess);
        if (!ChangeServiceConfigW(
            handle.Handle, ServiceWin32OwnProcess, ServiceAutoStart, ServiceErrorNormal, definition.CommandLine, null, 0, null,
            LocalSystemAccount, string.Empty, definition.DisplayName))
        {
            throw Failure(Marshal.GetLastPInvokeError(), $"ChangeServiceConfig({definition.Name})");
        }

        return Configure(handle.Handle, definition);
    }

    public void Start(string name)
    {
        using var manager = OpenManager(ScManagerConnect);
        using var handle = OpenService(manager, name, ServiceStart | ServiceQueryStatus);
        if (!StartServiceW(handle.Handle, 0, 0))
        {
            var error = Marshal.GetLastPInvokeError();
            if (error != ErrorServiceAlreadyRunning)
            {
                throw Failure(error, $"StartService({name})");
            }
        }
    }

    public void Stop(string name, TimeSpan timeout)
    {
        using var manager = OpenManager(ScManagerConnect);
        using var handle = OpenService(manager, name, ServiceStop | ServiceQueryStatus);
        if (!ControlService(handle.Handle, ServiceControlStop, out _))
        {
            var error = Marshal.GetLastPInvokeError();
            if (error != ErrorServiceNotActive)
            {
                throw Failure(error, $"ControlService({name}, STOP)");
            }
        }

        var clock = Stopwatch.StartNew();
        while (QueryState(handle.Handle, name) != ServiceRunState.Stopped)
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"Service {name} did not stop within {timeout.TotalSeconds:0} s.");
            }

            Thread.Sleep(250);
        }
    }

    public void Delete(string name)
    {
        using var manager = OpenManager(ScManagerConnect);
        using var handle = OpenService(manager, name, ServiceDelete);
        if (!DeleteService(handle.Handle))
        {
            var error = Marshal.GetLastPInvokeError();
            if (error != ErrorServiceMarkedForDelete)
            {
                throw Failure(error, $"DeleteService({name})");
            }
        }
    }

    /// <summary>
    /// Description, recovery (restart after each failure, also when the agent exits with an error code) and delayed
    /// start. The last two are levels every Windows since Vista has; a system without them (Wine) gets the service
    /// without them and a note, rather than no service.
    /// </summary>
    private static List<string> Configure(nint service, ServiceDefinition definition)
    {
        var skipped = new List<string>();
        var text = Marshal.StringToHGlobalUni(definition.Description);
        try
        {
            var description = new ServiceDescription { Description = text };
            if (!ChangeServiceConfig2Description(service, ServiceConfigDescription, ref description))
            {
                throw Failure(Marshal.GetLastPInvokeError(), "ChangeServiceConfig2(SERVICE_CONFIG_DESCRIPTION)");
            }
        }
        finally
        {
            Marshal.FreeHGlobal(text);
        }

        var actions = definition.RestartDelays
            .Select(delay => new ScAction { Type = ScActionRestart, Delay = (uint)delay.TotalMilliseconds })
            .ToArray();
        var pinned = GCHandle.Alloc(actions, GCHandleType.Pinned);
        try
        {
            var failure = new ServiceFailureActions
            {
                ResetPeriod = (uint)definition.ResetPeriod.TotalSeconds,
                Actions = (uint)actions.Length,
                ActionList = pinned.AddrOfPinnedObject(),
            };
            if (!ChangeServiceConfig2FailureActions(service, ServiceConfigFailureActions, ref failure))
            {
                throw Failure(Marshal.GetLastPInvokeError(), "ChangeServiceConfig2(SERVICE_CONFIG_FAILURE_ACTIONS)");
            }
        }
        finally
        {
            pinned.Free();
        }

        var onNonCrashFailures = new ServiceFlag { Value = 1 };
        SetOptional(service, ServiceConfigFailureActionsFlag, ref onNonCrashFailures, "SERVICE_CONFIG_FAILURE_ACTIONS_FLAG (restart also when the agent exits with an error)", skipped);
        var delayed = new ServiceFlag { Value = definition.DelayedAutoStart ? 1 : 0 };
        SetOptional(service, ServiceConfigDelayedAutoStartInfo, ref delayed, "SERVICE_CONFIG_DELAYED_AUTO_START_INFO", skipped);
        return skipped;
    }

    private static void SetOptional(nint service, uint level, ref ServiceFlag value, string name, List<string> skipped)
    {
        if (ChangeServiceConfig2Flag(service, level, ref value))
        {
            return;
        }

        var error = Marshal.GetLastPInvokeError();
        if (error != ErrorInvalidLevel)
        {
            throw Failure(error, $"ChangeServiceConfig2({name})");
        }

        skipped.Add($"This system does not support {name}; the service is registered without it.");
    }

    private static ServiceRunState QueryState(nint service, string name) => QueryServiceStatus(service, out var status)
        ? (ServiceRunState)status.CurrentState
        : throw Failure(Marshal.GetLastPInvokeError(), $"QueryServiceStatus({name})");

    private static ScHandle OpenManager(uint access)
    {
        var manager = OpenSCManagerW(null, null, access);
        return manager == 0 ? throw Failure(Marshal.GetLastPInvokeError(), "OpenSCManager") : new ScHandle(manager);
    }

    private static ScHandle OpenService(ScHandle manager, string name, uint access)
    {
        var service = OpenServiceW(manager.Handle, name, access);
        return service == 0 ? throw Failure(Marshal.GetLastPInvokeError(), $"OpenService({name})") : new ScHandle(service);
    }

    private static Win32Exception Failure(int error, string call) =>
        new(error, $"{call} failed with error {error}: {new Win32Exception(error).Message}");

    /// <summary>A service control manager handle, closed once.</summary>
    private sealed class ScHandle(nint handle) : IDisposable
    {
        public nint Handle => handle;

        public void Dispose() => CloseServiceHandle(handle);
    }

    internal const uint ScManagerConnect = 0x0001;
    internal const uint ScManagerCreateService = 0x0002;
    internal const uint ServiceQueryStatus = 0x0004;
    internal const uint ServiceStart = 0x0010;
    internal const uint ServiceStop = 0x0020;
    internal const uint ServiceDelete = 0x00010000;
    internal const uint ServiceAllAccess = 0x000F01FF;
    internal const uint ServiceWin32OwnProcess = 0x10;
    internal const uint ServiceAutoStart = 2;
    internal const uint ServiceErrorNormal = 1;
    internal const uint ServiceControlStop = 1;
    internal const uint ServiceConfigDescription = 1;
    internal const uint ServiceConfigFailureActions = 2;
    internal const uint ServiceConfigDelayedAutoStartInfo = 3;
    internal const uint ServiceConfigFailureActionsFlag = 4;
    internal const int ScActionRestart = 1;
    internal const int ErrorInvalidLevel = 124;
    internal const int ErrorServiceAlreadyRunning = 1056;
    internal const int ErrorServiceDoesNotExist = 1060;
    internal const int ErrorServiceNotActive = 1062;
    internal const int ErrorServiceMarkedForDelete = 1072;
    private const string LocalSystemAccount = "LocalSystem";

    [LibraryImport("advapi32.dll", SetLastError = true, StringMarshalling = StringMarshalling.Utf16)]
    internal static partial nint OpenSCManagerW(string? machineName, string? databaseName, uint desiredAccess);

    [LibraryImport("advapi32.dll", SetLastError = true, StringMarshalling = StringMarshalling.Utf16)]
    internal static partial nint OpenServiceW(nint manager, string serviceName, uint desiredAccess);

    [LibraryImport("advapi32.dll", SetLastError = true, StringMarshalling = StringMarshalling.Utf16)]
    private static partial nint CreateServiceW(
        nint manager, string serviceName, string displayName, uint desiredAccess, uint serviceType, uint startType, uint errorControl,
        string binaryPathName, string? loadOrderGroup, nint tagId, string? dependencies, string? serviceStartName, string? password);

    [LibraryImport("advapi32.dll", SetLastError = true, StringMarshalling = StringMarshalling.Utf16)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static partial bool ChangeServiceConfigW(
        nint service, uint serviceType, uint startType, uint errorControl, string? binaryPathName, string? loadOrderGroup, nint tagId,
        string? dependencies, string? serviceStartName, string? password, string? displayName);

    [LibraryImport("advapi32.dll", EntryPoint = "ChangeServiceConfig2W", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool ChangeServiceConfig2Description(nint service, uint infoLevel, ref ServiceDescription info);

    [LibraryImport("advapi32.dll", EntryPoint = "ChangeServiceConfig2W", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool ChangeServiceConfig2FailureActions(nint service, uint infoLevel, ref ServiceFailureActions info);

    [LibraryImport("advapi32.dll", EntryPoint = "ChangeServiceConfig2W", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool ChangeServiceConfig2Flag(nint service, uint infoLevel, ref ServiceFlag info);

    [LibraryImport("advapi32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool StartServiceW(nint service, uint argumentCount, nint arguments);

    [LibraryImport("advapi32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool ControlService(nint service, uint control, out ServiceStatus status);

    [LibraryImport("advapi32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool QueryServiceStatus(nint service, out ServiceStatus status);

    [LibraryImport("advapi32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool DeleteService(nint service);

    [LibraryImport("advapi32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static partial bool CloseServiceHandle(nint handle);
}

/// <summary>The service control manager's structures (their layout is tested on any OS).</summary>
internal static class ServiceStructures
{
    /// <summary>SERVICE_STATUS: seven DWORDs (28 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ServiceStatus
    {
        public uint ServiceType;
        public uint CurrentState;
        public uint ControlsAccepted;
        public uint Win32ExitCode;
        public uint ServiceSpecificExitCode;
        public uint CheckPoint;
        public uint WaitHint;
    }

    /// <summary>SERVICE_DESCRIPTIONW: one LPWSTR.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ServiceDescription
    {
        public nint Description;
    }

    /// <summary>SERVICE_FAILURE_ACTIONSW (40 bytes on x64: DWORD, padding, two LPWSTRs, DWORD, padding, SC_ACTION*).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ServiceFailureActions
    {
        public uint ResetPeriod;
        public nint RebootMessage;
        public nint Command;
        public uint Actions;
        public nint ActionList;
    }

    /// <summary>SC_ACTION: SC_ACTION_TYPE and a delay in milliseconds.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ScAction
    {
        public int Type;
        public uint Delay;
    }

    /// <summary>SERVICE_DELAYED_AUTO_START_INFO and SERVICE_FAILURE_ACTIONS_FLAG: one BOOL each.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ServiceFlag
    {
        public int Value;
    }
}
