using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using static Rehome.Agent.Platform.Windows.Areas.AreaNativeMethods;

namespace Rehome.Agent.Platform.Windows.Areas;

/// <summary>
/// The real Task Scheduler calls through its documented COM interface (ITaskService, late bound: the agent is
/// neither trimmed nor AOT-compiled, so built-in COM interop is there). Marshalling only: each call connects, does
/// its one thing and answers with the HRESULT of what failed.
/// </summary>
[SupportedOSPlatform("windows")]
internal sealed class NativeTaskCalls : ITaskCalls
{
    private const int TaskEnumHidden = 1;
    private const int TaskUpdate = 4;
    private const int TaskDontAddPrincipalAce = 0x10;
    private const uint Parts = SecurityParts.Owner | SecurityParts.Group | SecurityParts.Dacl;

    public int List(out IReadOnlyList<string> paths)
    {
        var found = new List<string>();
        paths = found;
        return Call(service => Collect(service.GetFolder(@"\"), found));
    }

    public int GetDescriptor(string path, out byte[]? descriptor)
    {
        byte[]? found = null;
        var status = Call(service =>
        {
            string sddl = Task(service, path).GetSecurityDescriptor((int)Parts);
            return Binary(sddl, out found);
        });
        descriptor = found;
        return status;
    }

    public int SetDescriptor(string path, byte[] descriptor) => Call(service =>
    {
        var status = Sddl(descriptor, out var sddl);
        if (status == Success)
        {
            Task(service, path).SetSecurityDescriptor(sddl!, TaskDontAddPrincipalAce);
        }

        return status;
    });

    public int GetPrincipal(string path, out TaskPrincipal? principal)
    {
        TaskPrincipal? found = null;
        var status = Call(service =>
        {
            var read = Task(service, path).Definition.Principal;
            found = new TaskPrincipal((string?)read.UserId, (string?)read.GroupId, (TaskLogonType)(int)read.LogonType);
            return Success;
        });
        principal = found;
        return status;
    }

    public int SetPrincipal(string path, TaskPrincipal principal) => Call(service =>
    {
        var (folder, name) = Split(path);
        var task = Task(service, path);
        // The descriptor goes with the new registration as it was, so that only the principal changes.
        string sddl = task.GetSecurityDescriptor((int)Parts);
        var definition = task.Definition;
        var account = principal.LogonType == TaskLogonType.Group ? principal.GroupId : principal.UserId;
        if (principal.LogonType == TaskLogonType.Group)
        {
            definition.Principal.GroupId = principal.GroupId;
        }
        else
        {
            definition.Principal.UserId = principal.UserId;
        }

        definition.Principal.LogonType = (int)principal.LogonType;
        service.GetFolder(folder).RegisterTaskDefinition(name, definition, TaskUpdate, account, null, (int)principal.LogonType, sddl);
        return Success;
    });

    private static void Collect(dynamic folder, List<string> found)
    {
        var tasks = folder.GetTasks(TaskEnumHidden);
        for (var i = 1; i <= (int)tasks.Count; i++)
        {
            found.Add((string)tasks[i].Path);
        }

        var folders = folder.GetFolders(0);
        for (var i = 1; i <= (int)folders.Count; i++)
        {
            Collect(folders[i], found);
        }
    }

    private static dynamic Task(dynamic service, string path)
    {
        var (folder, name) = Split(path);
        return service.GetFolder(folder).GetTask(name);
    }

    /// <summary><c>\A\B\Task</c> → (<c>\A\B</c>, <c>Task</c>); a task in the root folder is in <c>\</c>.</summary>
    internal static (string Folder, string Name) Split(string path)
    {
        var separator = path.LastIndexOf('\\');
        return separator <= 0 ? (@"\", path.TrimStart('\\')) : (path[..separator], path[(separator + 1)..]);
    }

    private static int Call(Func<dynamic, int> call)
    {
        try
        {
            var type = Type.GetTypeFromProgID("Schedule.Service", throwOnError: true)!;
            dynamic service = Activator.CreateInstance(type)!;
            try
            {
                service.Connect();
                return call(service);
            }
            finally
            {
                Marshal.FinalReleaseComObject(service);
            }
        }
        catch (Exception exception) when (exception is COMException or UnauthorizedAccessException or FileNotFoundException or ArgumentException
            or InvalidCastException or Microsoft.CSharp.RuntimeBinder.RuntimeBinderException)
        {
            return exception.HResult;
        }
    }

    private static int Binary(string sddl, out byte[]? descriptor)
    {
        descriptor = null;
        if (!DescriptorOfSddl(sddl, SddlRevision1, out var native, out var length))
        {
            return Marshal.GetLastPInvokeError();
        }

        try
        {
            descriptor = new byte[length];
            Marshal.Copy(native, descriptor, 0, length);
            return Success;
        }
        finally
        {
            _ = LocalFree(native);
        }
    }

    private static int Sddl(byte[] descriptor, out string? sddl)
    {
        sddl = null;
        if (!SddlOfDescriptor(descriptor, SddlRevision1, Parts, out var native, out _))
        {
            return Marshal.GetLastPInvokeError();
        }

        try
        {
            sddl = Marshal.PtrToStringUni(native);
            return Success;
        }
        finally
        {
            _ = LocalFree(native);
        }
    }
}
