using Rehome.Protocol;
using Rehome.Security.Stores;

namespace Rehome.Agent.Platform;

/// <summary>
/// The thin seam of the user hives: the calls on HKEY_USERS that loading, unloading and reading a hive take, each
/// answering with a Win32 error (0 is success). Names are keys directly under HKEY_USERS; keys are paths below it.
/// Windows implements it with RegLoadKeyW / RegUnLoadKeyW; the simulated device with hive files in its folder.
/// </summary>
public interface IHiveCalls
{
    /// <summary>Whether <c>HKU\<paramref name="name"/></c> exists (a hive is loaded there).</summary>
    bool IsLoaded(string name);

    /// <summary>Enables SeBackupPrivilege and SeRestorePrivilege in the process token (RegLoadKey needs both).</summary>
    int EnablePrivileges();

    bool FileExists(string file);

    /// <summary>RegLoadKeyW(HKEY_USERS, <paramref name="name"/>, <paramref name="file"/>).</summary>
    int Load(string name, string file);

    /// <summary>RegUnLoadKeyW(HKEY_USERS, <paramref name="name"/>): refused (5) while any handle to a key of the hive is open.</summary>
    int Unload(string name);

    /// <summary>The names of <paramref name="key"/>'s subkeys; empty when it is missing.</summary>
    IReadOnlyList<string> SubkeyNames(string key);

    /// <summary>The value as stored; null when the key or the value is missing.</summary>
    RegistryValue? GetValue(string key, string name);

    /// <summary>Writes the value with its type and bytes, creating the key.</summary>
    int SetValue(string key, RegistryValue value);

    /// <summary>Deletes the value; 0 when it is already gone.</summary>
    int DeleteValue(string key, string name);

    /// <summary>Windows' text for an error code.</summary>
    string Describe(int error);
}

/// <summary>
/// The registry hives of the user profiles, found from ProfileList: a profile whose user is signed in has its
/// hives loaded by Windows (<c>HKU\&lt;sid&gt;</c>, <c>HKU\&lt;sid&gt;_Classes</c>) and is walked in place; any
/// other has <c>NTUSER.DAT</c> and <c>UsrClass.dat</c> loaded under <c>HKU\Rehome_&lt;sid&gt;</c> (and
/// <c>_Classes</c>) for the walk and unloaded afterwards. Items are always named by where Windows loads the hive
/// for its user (<c>HKU\&lt;sid&gt;\…</c>), wherever it is loaded now, so that an undo journal written by one walk
/// is replayed by a later session whether the user has signed in since or not.
/// </summary>
public sealed class UserHives(IHiveCalls calls, ISecurityStore registry, Func<IReadOnlyList<UserProfile>> profiles, Action<TimeSpan> wait)
{
    public const string TemporaryPrefix = "Rehome_";
    public const string ClassesSuffix = "_Classes";
    public const string UserHiveFile = "NTUSER.DAT";
    public const string ClassesHiveFile = @"AppData\Local\Microsoft\Windows\UsrClass.dat";

    /// <summary>In a user's classes hive: one subkey per AppX package registered for the user, with its PackageRootFolder.</summary>
    public const string AppxPackagesKey = @"Local Settings\Software\Microsoft\Windows\CurrentVersion\AppModel\Repository\Packages";

    /// <summary>The waits between unload attempts: handles to a hive's keys linger a moment after their last use.</summary>
    public static IReadOnlyList<TimeSpan> UnloadBackoff { get; } =
        [TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)];

    /// <summary>Whether Windows has the user's own hive loaded (the user is signed in, or was a moment ago).</summary>
    public bool IsLoadedByUser(string sid) => calls.IsLoaded(sid);

    /// <summary>Where the user's hive is named, whoever loads it.</summary>
    public static string UserRoot(string sid) => @"HKU\" + sid;

    public static string ClassesRoot(string sid) => @"HKU\" + sid + ClassesSuffix;

    /// <summary>Every profile's hives.</summary>
    public HiveSession Open() => Open(profiles());

    /// <summary>
    /// The hives of <paramref name="owners"/>, loaded where they are not. <paramref name="alsoLoadedAs"/> is another
    /// account the profile may belong to now (its destination account, signed in since a migration): Windows then
    /// has the same hives loaded under that account's SID, and they are walked there.
    /// </summary>
    public HiveSession Open(IReadOnlyList<UserProfile> owners, string? alsoLoadedAs = null)
    {
        var session = new HiveSession(calls, registry, wait);
        var privileged = false;
        foreach (var profile in owners)
        {
            var folder = profile.ProfileImagePath.TrimEnd('\\');
            foreach (var (root, name, file, required, other) in new[]
            {
                (UserRoot(profile.Sid), profile.Sid, $@"{folder}\{UserHiveFile}", true, alsoLoadedAs),
                (ClassesRoot(profile.Sid), profile.Sid + ClassesSuffix, $@"{folder}\{ClassesHiveFile}", false, alsoLoadedAs + ClassesSuffix),
            })
            {
                var temporary = TemporaryPrefix + name;
                if (calls.IsLoaded(name))
                {
                    session.Add(new HiveMount(root, name, file, LoadedHere: false));
                }
                else if (alsoLoadedAs is not null && calls.IsLoaded(other!))
                {
                    session.Add(new HiveMount(root, other!, file, LoadedHere: false));
                }
                else if (calls.IsLoaded(temporary))
                {
                    // Left loaded by an interrupted job: this session walks it and unloads it.
                    session.Add(new HiveMount(root, temporary, file, LoadedHere: true));
                }
                else if (!calls.FileExists(file))
                {
                    if (required)
                    {
                        session.Fail(root, SecurityStoreErrorKind.NotFound, $"{file} is missing: the profile has no registry hive to migrate.");
                    }
                }
                else
                {
                    if (!privileged)
                    {
                        var denied = calls.EnablePrivileges();
                        if (denied != 0)
                        {
                            throw new HiveException($"The backup and restore privileges could not be enabled, so no hive can be loaded: {calls.Describe(denied)} ({denied}).");
                        }
                        privileged = true;
                    }
                    var error = calls.Load(temporary, file);
                    if (error == 0)
                    {
                        session.Add(new HiveMount(root, temporary, file, LoadedHere: true));
                    }
                    else
                    {
                        // 32: Windows holds the file (its user signed in meanwhile, or another tool loaded it).
                        session.Fail(root, error == 32 ? SecurityStoreErrorKind.InUse : SecurityStoreErrorKind.Other,
                            $@"{file} could not be loaded under HKU\{temporary}: {calls.Describe(error)} ({error}).");
                    }
                }
            }
        }
        return session;
    }

    /// <summary>Every profile's hives as a Re-ACL area; disposing it unloads what it loaded and throws when a hive stays loaded.</summary>
    public OpenedArea OpenArea()
    {
        var session = Open();
        return new OpenedArea(ReaclArea.UserHives, session.Store, session.Roots, [], null, () =>
        {
            var problems = session.Close();
            if (problems.Count > 0)
            {
                throw new HiveException(string.Join(" ", problems));
            }
        });
    }
}

/// <summary>A hive in a session: where items are named (<see cref="Root"/>) and where it is loaded now (<c>HKU\<see cref="Name"/></c>).</summary>
public sealed record HiveMount(string Root, string Name, string File, bool LoadedHere);

/// <summary>A hive could not be loaded or unloaded, or hives cannot be loaded at all.</summary>
public sealed class HiveException(string message) : Exception(message);

/// <summary>
/// Hives opened for a walk. <see cref="Store"/> names items by <see cref="HiveMount.Root"/>; a hive that could not
/// be loaded stays among <see cref="Roots"/> and fails as an item with the reason, so that a walk reports it.
/// <see cref="Close"/> unloads the hives this session loaded, retrying while handles linger.
/// </summary>
public sealed class HiveSession : IDisposable
{
    private readonly IHiveCalls calls;
    private readonly Action<TimeSpan> wait;
    private readonly List<HiveMount> mounts = [];
    private readonly Dictionary<string, SecurityStoreException> failed = new(StringComparer.OrdinalIgnoreCase);
    private bool closed;

    internal HiveSession(IHiveCalls calls, ISecurityStore registry, Action<TimeSpan> wait)
    {
        this.calls = calls;
        this.wait = wait;
        Store = new HiveStore(registry, this);
    }

    public IReadOnlyList<HiveMount> Mounts => mounts;

    /// <summary>The hives that could not be loaded, with why.</summary>
    public IReadOnlyDictionary<string, SecurityStoreException> Failed => failed;

    /// <summary>Every hive's root, the failed ones included.</summary>
    public IReadOnlyList<string> Roots => [.. mounts.Select(m => m.Root), .. failed.Keys];

    public ISecurityStore Store { get; }

    internal void Add(HiveMount mount) => mounts.Add(mount);

    internal void Fail(string root, SecurityStoreErrorKind kind, string message) => failed[root] = new SecurityStoreException(kind, root, message);

    /// <summary>Where a hive item named by its root is now (<c>HKU\Rehome_&lt;sid&gt;\…</c> for a hive this session loaded).</summary>
    public string Locate(string path)
    {
        foreach (var mount in mounts)
        {
            if (Under(path, mount.Root))
            {
                return @"HKU\" + mount.Name + path[mount.Root.Length..];
            }
        }
        foreach (var (root, error) in failed)
        {
            if (Under(path, root))
            {
                throw error;
            }
        }
        throw new SecurityStoreException(SecurityStoreErrorKind.NotFound, path, $"{path} is not in a hive this session opened.");
    }

    /// <summary>The name of an item at <paramref name="located"/> (a path <see cref="Locate"/> gave) as the caller names it.</summary>
    internal string Rename(string located, string asCalled, string calledLocated) => asCalled.TrimEnd('\\') + located[calledLocated.TrimEnd('\\').Length..];

    public IReadOnlyList<string> SubkeyNames(string key) => calls.SubkeyNames(BelowUsers(Locate(key)));

    public RegistryValue? GetValue(string key, string name) => calls.GetValue(BelowUsers(Locate(key)), name);

    public void SetValue(string key, RegistryValue value) => Check(calls.SetValue(BelowUsers(Locate(key)), value), key, value.Name);

    public void DeleteValue(string key, string name) => Check(calls.DeleteValue(BelowUsers(Locate(key)), name), key, name);

    /// <summary>Unloads every hive this session loaded, retrying with a short back-off; returns each hive that stayed loaded, with why.</summary>
    public IReadOnlyList<string> Close()
    {
        if (closed)
        {
            return [];
        }
        closed = true;
        var problems = new List<string>();
        foreach (var mount in mounts.Where(m => m.LoadedHere))
        {
            var error = 0;
            for (var attempt = 0; attempt <= UserHives.UnloadBackoff.Count; attempt++)
            {
                error = calls.Unload(mount.Name);
                // 2 or 87: nothing is loaded under that name any more.
                if (error is 0 or 2 or 87 || !calls.IsLoaded(mount.Name))
                {
                    error = 0;
                    break;
                }
                if (attempt < UserHives.UnloadBackoff.Count)
                {
                    wait(UserHives.UnloadBackoff[attempt]);
                }
            }
            if (error != 0)
            {
                problems.Add($@"HKU\{mount.Name} ({mount.File}) stays loaded after {UserHives.UnloadBackoff.Count + 1} attempts to unload it: "
                    + $"{calls.Describe(error)} ({error}). Its user cannot sign in until the device restarts.");
            }
        }
        return problems;
    }

    /// <summary>Unloads what it can; a caller that needs to know what stayed loaded calls <see cref="Close"/> first.</summary>
    public void Dispose() => Close();

    private static bool Under(string path, string root) =>
        path.Equals(root, StringComparison.OrdinalIgnoreCase)
        || (path.Length > root.Length && path[root.Length] == '\\' && path.StartsWith(root, StringComparison.OrdinalIgnoreCase));

    private static string BelowUsers(string located) => located[@"HKU\".Length..];

    private void Check(int error, string key, string name)
    {
        if (error != 0)
        {
            throw new SecurityStoreException(error == 5 ? SecurityStoreErrorKind.AccessDenied : SecurityStoreErrorKind.Other, key,
                $@"{key}\{name} could not be written: {calls.Describe(error)} ({error}).");
        }
    }
}

/// <summary>The registry store over a session's hives, naming items by their roots.</summary>
internal sealed class HiveStore(ISecurityStore registry, HiveSession session) : ISecurityStore
{
    public bool PropagatesInheritance => registry.PropagatesInheritance;

    public byte[] ReadDescriptor(string path) => registry.ReadDescriptor(session.Locate(path));

    public void WriteDescriptor(string path, ReadOnlySpan<byte> descriptor) => registry.WriteDescriptor(session.Locate(path), descriptor);

    public IEnumerable<string> EnumerateChildren(string path)
    {
        var located = session.Locate(path);
        return registry.EnumerateChildren(located).Select(child => session.Rename(child, path, located));
    }
}
