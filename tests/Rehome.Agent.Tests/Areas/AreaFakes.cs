using Rehome.Agent.Platform.Windows.Areas;

namespace Rehome.Agent.Tests.Areas;

/// <summary>Shares by name; a name in <see cref="Failing"/> answers its code.</summary>
internal sealed class FakeShareCalls : IShareCalls
{
    public List<ShareInfo> Shares { get; } = [];

    public Dictionary<string, byte[]?> Descriptors { get; } = new(StringComparer.OrdinalIgnoreCase);

    public Dictionary<string, int> Failing { get; } = new(StringComparer.OrdinalIgnoreCase);

    public int ListStatus { get; set; }

    public void Add(string name, byte[]? descriptor, uint type = 0)
    {
        Shares.Add(new ShareInfo(name, type, descriptor is not null));
        Descriptors[name] = descriptor;
    }

    public int List(out IReadOnlyList<ShareInfo> shares)
    {
        shares = ListStatus == 0 ? [.. Shares] : [];
        return ListStatus;
    }

    public int GetDescriptor(string name, out byte[]? descriptor)
    {
        descriptor = null;
        if (Failing.TryGetValue(name, out var code))
        {
            return code;
        }

        if (!Descriptors.TryGetValue(name, out descriptor))
        {
            return AreaErrors.NerrNetNameNotFound;
        }

        return 0;
    }

    public int SetDescriptor(string name, byte[] descriptor)
    {
        if (Failing.TryGetValue(name, out var code))
        {
            return code;
        }

        if (!Descriptors.ContainsKey(name))
        {
            return AreaErrors.NerrNetNameNotFound;
        }

        Descriptors[name] = descriptor;
        return 0;
    }
}

/// <summary>A service control manager of services with descriptors and start names; records each call's access and parts.</summary>
internal sealed class FakeServiceCalls : IServiceCalls
{
    public Dictionary<string, byte[]> Descriptors { get; } = new(StringComparer.OrdinalIgnoreCase);

    public Dictionary<string, string?> StartNames { get; } = new(StringComparer.OrdinalIgnoreCase);

    public Dictionary<string, int> Failing { get; } = new(StringComparer.OrdinalIgnoreCase);

    public List<(string Name, uint Access, uint Information)> DescriptorCalls { get; } = [];

    public List<(string Name, string StartName, string? Password)> StartNameChanges { get; } = [];

    public void Add(string name, byte[] descriptor, string? startName)
    {
        Descriptors[name] = descriptor;
        StartNames[name] = startName;
    }

    public int List(out IReadOnlyList<string> names)
    {
        names = [.. Descriptors.Keys];
        return 0;
    }

    public int GetDescriptor(string name, uint access, uint information, out byte[]? descriptor)
    {
        DescriptorCalls.Add((name, access, information));
        descriptor = null;
        return Status(name) is var status and not 0 ? status : Found(Descriptors.TryGetValue(name, out descriptor));
    }

    public int SetDescriptor(string name, uint access, uint information, byte[] descriptor)
    {
        DescriptorCalls.Add((name, access, information));
        if (Status(name) is var status and not 0)
        {
            return status;
        }

        Descriptors[name] = descriptor;
        return 0;
    }

    public int GetConfig(string name, out ServiceConfig? config)
    {
        config = null;
        if (Status(name) is var status and not 0)
        {
            return status;
        }

        config = new ServiceConfig(StartNames[name], 0x10);
        return 0;
    }

    public int SetStartName(string name, string startName, string? password)
    {
        if (Status(name) is var status and not 0)
        {
            return status;
        }

        StartNameChanges.Add((name, startName, password));
        StartNames[name] = startName;
        return 0;
    }

    private int Status(string name) =>
        Failing.TryGetValue(name, out var code) ? code : Descriptors.ContainsKey(name) ? 0 : AreaErrors.ServiceDoesNotExist;

    private static int Found(bool found) => found ? 0 : AreaErrors.ServiceDoesNotExist;
}

/// <summary>Printers by name with their attributes and descriptors; records the access each call asked for.</summary>
internal sealed class FakePrinterCalls : IPrinterCalls
{
    public List<PrinterInfo> Printers { get; } = [];

    public Dictionary<string, byte[]> Descriptors { get; } = new(StringComparer.OrdinalIgnoreCase);

    public int ListStatus { get; set; }

    public List<uint> Accesses { get; } = [];

    public void Add(string name, byte[] descriptor, uint attributes = 0)
    {
        Printers.Add(new PrinterInfo(name, attributes));
        Descriptors[name] = descriptor;
    }

    public int List(out IReadOnlyList<PrinterInfo> printers)
    {
        printers = [.. Printers];
        return ListStatus;
    }

    public int GetDescriptor(string name, uint access, out byte[]? descriptor)
    {
        Accesses.Add(access);
        return Descriptors.TryGetValue(name, out descriptor) ? 0 : AreaErrors.InvalidPrinterName;
    }

    public int SetDescriptor(string name, uint access, byte[] descriptor)
    {
        Accesses.Add(access);
        if (!Descriptors.ContainsKey(name))
        {
            return AreaErrors.InvalidPrinterName;
        }

        Descriptors[name] = descriptor;
        return 0;
    }
}

/// <summary>Scheduled tasks by path, answering HRESULTs as the COM interface does.</summary>
internal sealed class FakeTaskCalls : ITaskCalls
{
    public const int NotFoundHresult = unchecked((int)0x80070002);

    public Dictionary<string, byte[]> Descriptors { get; } = new(StringComparer.OrdinalIgnoreCase);

    public Dictionary<string, TaskPrincipal> Principals { get; } = new(StringComparer.OrdinalIgnoreCase);

    public List<(string Path, TaskPrincipal Principal)> Registered { get; } = [];

    public void Add(string path, byte[] descriptor, TaskPrincipal principal)
    {
        Descriptors[path] = descriptor;
        Principals[path] = principal;
    }

    public int List(out IReadOnlyList<string> paths)
    {
        paths = [.. Descriptors.Keys];
        return 0;
    }

    public int GetDescriptor(string path, out byte[]? descriptor) => Descriptors.TryGetValue(path, out descriptor) ? 0 : NotFoundHresult;

    public int SetDescriptor(string path, byte[] descriptor)
    {
        if (!Descriptors.ContainsKey(path))
        {
            return NotFoundHresult;
        }

        Descriptors[path] = descriptor;
        return 0;
    }

    public int GetPrincipal(string path, out TaskPrincipal? principal) => Principals.TryGetValue(path, out principal) ? 0 : NotFoundHresult;

    public int SetPrincipal(string path, TaskPrincipal principal)
    {
        if (!Principals.ContainsKey(path))
        {
            return NotFoundHresult;
        }

        Registered.Add((path, principal));
        Principals[path] = principal;
        return 0;
    }
}

/// <summary>Account names both ways; anything else is ERROR_NONE_MAPPED.</summary>
internal sealed class FakeAccountNames : IAccountNames
{
    private readonly Dictionary<string, string> sidsByName = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, string> namesBySid = new(StringComparer.Ordinal);

    public void Add(string name, string sid)
    {
        sidsByName[name] = sid;
        namesBySid[sid] = name;
    }

    public int SidOf(string accountName, out string? sid) => sidsByName.TryGetValue(accountName, out sid) ? 0 : AreaErrors.NoneMapped;

    public int NameOf(string sid, out string? accountName) => namesBySid.TryGetValue(sid, out accountName) ? 0 : AreaErrors.NoneMapped;
}
