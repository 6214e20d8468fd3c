using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using static Rehome.Agent.Platform.Windows.Areas.AreaNativeMethods;
using static Rehome.Agent.Platform.Windows.Installation.WindowsServiceControl;

namespace Rehome.Agent.Platform.Windows.Areas;

/// <summary>The real service control manager calls: marshalling only; every handle is closed before returning.</summary>
[SupportedOSPlatform("windows")]
internal sealed class NativeServiceCalls : IServiceCalls
{
    public int List(out IReadOnlyList<string> names)
    {
        var found = new List<string>();
        names = found;
        return WithManager(ScManagerConnect | ScManagerEnumerateService, manager => WithBuffer(
            (buffer, size) =>
            {
                uint resume = 0;
                var done = EnumServicesStatusEx(manager, ScEnumProcessInfo, ServiceWin32, ServiceStateAll, buffer, size, out var needed, out var returned, ref resume, null);
                found.Clear();
                if (done)
                {
                    var entry = Marshal.SizeOf<EnumServiceStatusProcess>();
                    for (var i = 0; i < returned; i++)
                    {
                        found.Add(Marshal.PtrToStringUni(Marshal.PtrToStructure<EnumServiceStatusProcess>(buffer + (i * entry)).ServiceName) ?? "");
                    }
                }

                return (done, needed + size);
            },
            _ => Success));
    }

    public int GetDescriptor(string name, uint access, uint information, out byte[]? descriptor)
    {
        byte[]? found = null;
        var status = WithService(name, access, service =>
        {
            _ = QueryServiceObjectSecurity(service, information, null, 0, out var needed);
            var error = Marshal.GetLastPInvokeError();
            if (error != ErrorInsufficientBuffer)
            {
                return error == Success ? ErrorInsufficientBuffer : error;
            }

            var buffer = new byte[needed];
            if (!QueryServiceObjectSecurity(service, information, buffer, buffer.Length, out _))
            {
                return Marshal.GetLastPInvokeError();
            }

            found = buffer;
            return Success;
        });
        descriptor = found;
        return status;
    }

    public int SetDescriptor(string name, uint access, uint information, byte[] descriptor) =>
        WithService(name, access, service => SetServiceObjectSecurity(service, information, descriptor) ? Success : Marshal.GetLastPInvokeError());

    public int GetConfig(string name, out ServiceConfig? config)
    {
        ServiceConfig? found = null;
        var status = WithService(name, ServiceQueryConfig, service => WithBuffer(
            (buffer, size) => (QueryServiceConfiguration(service, buffer, size, out var needed), needed),
            buffer =>
            {
                var raw = Marshal.PtrToStructure<QueryServiceConfig>(buffer);
                found = new ServiceConfig(raw.ServiceStartName == 0 ? null : Marshal.PtrToStringUni(raw.ServiceStartName), raw.ServiceType);
                return Success;
            }));
        config = found;
        return status;
    }

    public int SetStartName(string name, string startName, string? password) =>
        WithService(name, ServiceChangeConfig, service => ChangeServiceConfigW(
            service, ServiceNoChange, ServiceNoChange, ServiceNoChange, null, null, 0, null, startName, password, null)
            ? Success
            : Marshal.GetLastPInvokeError());

    private static int WithManager(uint access, Func<nint, int> call)
    {
        var manager = OpenSCManagerW(null, null, access);
        if (manager == 0)
        {
            return Marshal.GetLastPInvokeError();
        }

        try
        {
            return call(manager);
        }
        finally
        {
            _ = CloseServiceHandle(manager);
        }
    }

    private static int WithService(string name, uint access, Func<nint, int> call) => WithManager(ScManagerConnect, manager =>
    {
        var service = OpenServiceW(manager, name, access);
        if (service == 0)
        {
            return Marshal.GetLastPInvokeError();
        }

        try
        {
            return call(service);
        }
        finally
        {
            _ = CloseServiceHandle(service);
        }
    });
}
