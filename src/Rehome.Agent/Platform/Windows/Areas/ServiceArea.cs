using Rehome.Protocol;
using Rehome.Security.Sids;
using Rehome.Security.Stores;

namespace Rehome.Agent.Platform.Windows.Areas;

/// <summary>What QueryServiceConfig says of the account a service runs as.</summary>
/// <param name="ServiceType">dwServiceType.</param>
/// <param name="StartName">lpServiceStartName: <c>LocalSystem</c>, <c>NT AUTHORITY\LocalService</c>, <c>DOMAIN\user</c>, <c>.\user</c>, <c>user@domain</c>; empty is LocalSystem.</param>
internal sealed record ServiceConfig(string? StartName, uint ServiceType);

/// <summary>
/// The native seam of the services area: advapi32's service control manager calls, each opening the manager and
/// the service with the access it is given and closing them (0 is success, a Win32 error otherwise).
/// </summary>
internal interface IServiceCalls
{
    /// <summary>EnumServicesStatusEx(SC_ENUM_PROCESS_INFO, SERVICE_WIN32, SERVICE_STATE_ALL), every page: the service names.</summary>
    int List(out IReadOnlyList<string> names);

    /// <summary>OpenService(<paramref name="access"/>) and QueryServiceObjectSecurity(<paramref name="information"/>): self-relative.</summary>
    int GetDescriptor(string name, uint access, uint information, out byte[]? descriptor);

    /// <summary>OpenService(<paramref name="access"/>) and SetServiceObjectSecurity(<paramref name="information"/>).</summary>
    int SetDescriptor(string name, uint access, uint information, byte[] descriptor);

    /// <summary>OpenService(SERVICE_QUERY_CONFIG) and QueryServiceConfig.</summary>
    int GetConfig(string name, out ServiceConfig? config);

    /// <summary>
    /// OpenService(SERVICE_CHANGE_CONFIG) and ChangeServiceConfig changing only the start name and password
    /// (<paramref name="password"/> null: none given, as managed and virtual accounts need).
    /// </summary>
    int SetStartName(string name, string startName, string? password);
}

/// <summary>SECURITY_INFORMATION parts and the access rights that read or write them.</summary>
internal static class SecurityParts
{
    public const uint Owner = 0x1;
    public const uint Group = 0x2;
    public const uint Dacl = 0x4;
    public const uint Sacl = 0x8;
    public const uint ReadControl = 0x00020000;
    public const uint WriteDac = 0x00040000;
    public const uint WriteOwner = 0x00080000;
    public const uint AccessSystemSecurity = 0x01000000;

    /// <summary>Owner, group and DACL, and the SACL when asked (it needs SeSecurityPrivilege, which the agent enables).</summary>
    public static uint Of(bool includeSacl) => Owner | Group | Dacl | (includeSacl ? Sacl : 0);

    /// <summary>The access a handle needs to read or write <paramref name="information"/>.</summary>
    public static uint AccessFor(uint information, bool write)
    {
        var access = write
            ? ((information & (Owner | Group)) != 0 ? WriteOwner : 0) | ((information & Dacl) != 0 ? WriteDac : 0)
            : ReadControl;
        return access | ((information & Sacl) != 0 ? AccessSystemSecurity : 0);
    }
}

/// <summary>
/// Service security descriptors (<c>service:NAME</c>): who may start, stop, configure or read each Win32 service.
/// The same parts are read and written, so the undo journal's bytes put back exactly what was there.
/// </summary>
internal sealed class ServiceSecurityStore(IServiceCalls calls, IWin32Errors errors, bool includeSacl) : NamedItemStore("service")
{
    private readonly uint parts = SecurityParts.Of(includeSacl);

    protected override IEnumerable<string> ListNames()
    {
        AreaErrors.Check(errors, calls.List(out var names), Root, "EnumServicesStatusEx");
        return names;
    }

    protected override byte[] Read(string name, string path)
    {
        AreaErrors.Check(errors, calls.GetDescriptor(name, SecurityParts.AccessFor(parts, write: false), parts, out var descriptor), path, $"QueryServiceObjectSecurity({name})");
        return descriptor ?? throw new SecurityStoreException(SecurityStoreErrorKind.Other, path, $"{path}: the service has no security descriptor.");
    }

    protected override void Write(string name, string path, byte[] descriptor) =>
        AreaErrors.Check(errors, calls.SetDescriptor(name, SecurityParts.AccessFor(parts, write: true), parts, descriptor), path, $"SetServiceObjectSecurity({name})");
}

/// <summary>
/// The account each Win32 service runs as, one holder per service (the service's name is the item). Reading
/// resolves the start name to a SID; writing follows <see cref="RunAsAccounts"/>: built-in, virtual and managed
/// service accounts are set (with the empty or no password Windows asks for them), a plain user account is not,
/// since the service control manager would need its password, which Rehome never knows.
/// </summary>
internal sealed class ServiceAccountStore(IServiceCalls calls, IAccountNames names, IWin32Errors errors, string computerName) : IHolderStore
{
    private static readonly Dictionary<string, string> BuiltInNames = new(StringComparer.Ordinal)
    {
        ["S-1-5-18"] = "LocalSystem",
        ["S-1-5-19"] = @"NT AUTHORITY\LocalService",
        ["S-1-5-20"] = @"NT AUTHORITY\NetworkService",
    };

    public IEnumerable<string> EnumerateItems()
    {
        AreaErrors.Check(errors, calls.List(out var services), "service:", "EnumServicesStatusEx");
        return services.Order(StringComparer.OrdinalIgnoreCase);
    }

    public int MaxHolders(string item) => 1;

    public IReadOnlyList<SecurityIdentifier> ReadHolders(string item) => [Current(item).Sid];

    public void WriteHolders(string item, IReadOnlyList<SecurityIdentifier> holders)
    {
        ArgumentNullException.ThrowIfNull(holders);
        if (holders.Count != 1)
        {
            throw new SecurityStoreException(SecurityStoreErrorKind.Other, item, $"{item}: a service runs as exactly one account, not {holders.Count}.");
        }

        var (current, currentName) = Current(item);
        var destination = holders[0];
        if (destination == current)
        {
            return;
        }

        var startName = StartNameOf(item, destination);
        if (RunAsAccounts.Refusal(RunAsAccounts.Classify(destination, startName), logsOnWithPassword: true) is { } refusal)
        {
            throw new SecurityStoreException(SecurityStoreErrorKind.Other, item, $"{item}: runs as {currentName}; moving it to {startName} {refusal}.");
        }

        // ChangeServiceConfig: an empty password for the built-in accounts, none (NULL) for managed and virtual ones.
        var password = RunAsAccounts.Classify(destination, startName) == RunAsKind.BuiltIn ? "" : null;
        AreaErrors.Check(errors, calls.SetStartName(item, startName, password), item, $"ChangeServiceConfig({item})");
    }

    /// <summary>The SID of the account the service runs as now, and its start name.</summary>
    private (SecurityIdentifier Sid, string Name) Current(string item)
    {
        AreaErrors.Check(errors, calls.GetConfig(item, out var config), item, $"QueryServiceConfig({item})");
        var startName = string.IsNullOrWhiteSpace(config?.StartName) ? "LocalSystem" : config.StartName.Trim();
        return (SidOfStartName(item, startName), startName);
    }

    /// <summary>
    /// The SID a start name means: the service control manager's names of the built-in accounts (<c>LocalSystem</c>,
    /// <c>NT AUTHORITY\LocalService</c>) are not the names LookupAccountName knows; <c>.\name</c> is a local account,
    /// looked up as <c>COMPUTER\name</c>.
    /// </summary>
    internal SecurityIdentifier SidOfStartName(string item, string startName)
    {
        foreach (var (sid, name) in BuiltInNames)
        {
            if (string.Equals(startName, name, StringComparison.OrdinalIgnoreCase))
            {
                return SecurityIdentifier.Parse(sid);
            }
        }

        var lookup = startName.StartsWith(@".\", StringComparison.Ordinal) ? computerName + startName[1..] : startName;
        return AccountLookup.Sid(names, errors, item, lookup);
    }

    private string StartNameOf(string item, SecurityIdentifier sid)
    {
        if (BuiltInNames.TryGetValue(sid.ToString(), out var builtIn))
        {
            return builtIn;
        }

        return AccountLookup.Name(names, errors, item, sid);
    }

    /// <summary>The services area: every Win32 service's descriptor and run-as account.</summary>
    public static OpenedArea Open(IServiceCalls calls, IAccountNames names, IWin32Errors errors, string computerName, bool includeSacl)
    {
        var store = new ServiceSecurityStore(calls, errors, includeSacl);
        return new OpenedArea(ReaclArea.Services, store, store.ItemPaths(), [], new ServiceAccountStore(calls, names, errors, computerName));
    }
}
