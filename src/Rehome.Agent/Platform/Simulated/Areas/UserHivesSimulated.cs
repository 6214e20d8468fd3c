using Rehome.Agent.Journal;
using Rehome.Security.Stores;

namespace Rehome.Agent.Platform.Simulated.Areas;

/// <summary>
/// One simulated hive file's content: every key (by its path inside the hive, "" for the root) with its security
/// descriptor, and the values of the keys that have some. Kept beside the device's registry in
/// <c>hives/files/&lt;the hive file's path&gt;.json</c>.
/// </summary>
public sealed record SimulatedHive
{
    public Dictionary<string, byte[]> Keys { get; init; } = [];

    public Dictionary<string, List<RegistryValue>> Values { get; init; } = [];

    internal SimulatedHive Normalized() => new()
    {
        Keys = new Dictionary<string, byte[]>(Keys, StringComparer.OrdinalIgnoreCase),
        Values = new Dictionary<string, List<RegistryValue>>(Values, StringComparer.OrdinalIgnoreCase),
    };
}

/// <summary>A hive loaded during one boot (a restart unloads every hive, as on Windows).</summary>
/// <param name="Name">Where it is loaded: <c>HKU\&lt;Name&gt;</c>.</param>
/// <param name="File">The hive file (a Windows path).</param>
/// <param name="Boot">The boot it was loaded in.</param>
/// <param name="LingeringHandles">How many unload attempts still meet an open handle (Windows refuses them with error 5).</param>
public sealed record LoadedHive(string Name, string File, long Boot, int LingeringHandles = 0);

/// <summary>
/// The simulated device's user hives: hive files beside its registry and a "loaded" list (<c>hives/loaded.json</c>)
/// that behaves as Windows does: a file loaded once cannot be loaded again (32), a name cannot be taken twice,
/// a hive with an open handle cannot be unloaded (5), and a restart unloads everything.
/// </summary>
public sealed class SimulatedHiveCalls(string folder, SimulatedDeviceStateFile state, FolderSecurityStore files) : IHiveCalls
{
    private readonly Lock deviceLock = DeviceLocks.For(folder, "hives");

    private string LoadedFile => Path.Combine(folder, "hives", "loaded.json");

    public bool IsLoaded(string name) => Find(name) is not null;

    public int EnablePrivileges() => 0;

    public bool FileExists(string file)
    {
        try
        {
            return files.Exists(file);
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    public int Load(string name, string file)
    {
        lock (deviceLock)
        {
            var loaded = Loaded();
            if (!FileExists(file))
            {
                return 2;
            }
            if (loaded.Any(h => h.File.Equals(file, StringComparison.OrdinalIgnoreCase)))
            {
                return 32;
            }
            if (loaded.Any(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase)))
            {
                return 183;
            }
            if (!File.Exists(ContentPath(file)))
            {
                return 1009;
            }
            Save([.. loaded, new LoadedHive(name, file, state.Read().BootCount)]);
            return 0;
        }
    }

    public int Unload(string name)
    {
        lock (deviceLock)
        {
            var loaded = Loaded();
            var hive = loaded.FirstOrDefault(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase));
            if (hive is null)
            {
                return 87;
            }
            if (hive.LingeringHandles > 0)
            {
                Save([.. loaded.Select(h => h == hive ? h with { LingeringHandles = h.LingeringHandles - 1 } : h)]);
                return 5;
            }
            Save([.. loaded.Where(h => h != hive)]);
            return 0;
        }
    }

    public IReadOnlyList<string> SubkeyNames(string key)
    {
        var (hive, relative) = Open(key);
        if (hive is null)
        {
            return [];
        }
        var content = Read(hive.File);
        return [.. content.Keys.Keys.Where(k => Parent(k).Equals(relative, StringComparison.OrdinalIgnoreCase) && k.Length > 0).Select(k => k.Split('\\')[^1]).Order(StringComparer.OrdinalIgnoreCase)];
    }

    public RegistryValue? GetValue(string key, string name)
    {
        var (hive, relative) = Open(key);
        return hive is null ? null
            : Read(hive.File).Values.GetValueOrDefault(relative)?.FirstOrDefault(v => v.Name.Equals(name, StringComparison.OrdinalIgnoreCase));
    }

    public int SetValue(string key, RegistryValue value) => Change(key, (content, relative) =>
    {
        // Creates the key and its missing parents, each with the parent's descriptor (what inheritance gives a new key).
        for (var parent = relative; !content.Keys.ContainsKey(parent); parent = Parent(parent))
        {
            content.Keys[parent] = content.Keys.GetValueOrDefault(Parent(parent)) ?? content.Keys[""];
        }
        var values = content.Values.GetValueOrDefault(relative) ?? [];
        content.Values[relative] = [.. values.Where(v => !v.Name.Equals(value.Name, StringComparison.OrdinalIgnoreCase)), value];
    });

    public int DeleteValue(string key, string name) => Change(key, (content, relative) =>
    {
        if (content.Values.TryGetValue(relative, out var values))
        {
            content.Values[relative] = [.. values.Where(v => !v.Name.Equals(name, StringComparison.OrdinalIgnoreCase))];
        }
    });

    public string Describe(int error) => error switch
    {
        2 => "The system cannot find the file specified.",
        5 => "Access is denied.",
        32 => "The process cannot access the file because it is being used by another process.",
        87 => "The parameter is incorrect.",
        183 => "Cannot create a file when that file already exists.",
        1009 => "The configuration registry database is corrupt.",
        _ => $"Error {error}.",
    };

    /// <summary>Windows loads a user's hives when the user signs in (the simulated user signs in on this boot).</summary>
    public void SignIn(string sid, string profileFolder)
    {
        lock (deviceLock)
        {
            var boot = state.Read().BootCount;
            var loaded = Loaded().Where(h => h.Name != sid && h.Name != sid + UserHives.ClassesSuffix).ToList();
            loaded.Add(new LoadedHive(sid, $@"{profileFolder}\{UserHives.UserHiveFile}", boot));
            loaded.Add(new LoadedHive(sid + UserHives.ClassesSuffix, $@"{profileFolder}\{UserHives.ClassesHiveFile}", boot));
            Save(loaded);
        }
    }

    /// <summary>The user signed out: Windows unloaded the user's hives.</summary>
    public void SignOut(string sid)
    {
        lock (deviceLock)
        {
            Save([.. Loaded().Where(h => h.Name != sid && h.Name != sid + UserHives.ClassesSuffix)]);
        }
    }

    /// <summary>Makes the next <paramref name="count"/> unloads of <c>HKU\<paramref name="name"/></c> meet an open handle.</summary>
    public void HoldHandles(string name, int count)
    {
        lock (deviceLock)
        {
            Save([.. Loaded().Select(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase) ? h with { LingeringHandles = count } : h)]);
        }
    }

    /// <summary>The hives loaded in this boot.</summary>
    public IReadOnlyList<LoadedHive> Loaded()
    {
        var boot = state.Read().BootCount;
        return [.. (DurableFile.ReadJson<List<LoadedHive>>(LoadedFile) ?? []).Where(h => h.Boot == boot)];
    }

    public LoadedHive? Find(string name) => Loaded().FirstOrDefault(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The content of the hive file <paramref name="file"/> (a Windows path).</summary>
    public SimulatedHive Read(string file) => (DurableFile.ReadJson<SimulatedHive>(ContentPath(file)) ?? new SimulatedHive()).Normalized();

    public void Write(string file, SimulatedHive content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(ContentPath(file))!);
        DurableFile.WriteJson(ContentPath(file), content);
    }

    /// <summary>The loaded hive a key below HKEY_USERS lies in, and the key's path inside it; null when none is loaded there.</summary>
    internal (LoadedHive? Hive, string Relative) Open(string key)
    {
        var slash = key.IndexOf('\\', StringComparison.Ordinal);
        var name = slash < 0 ? key : key[..slash];
        return (Find(name), slash < 0 ? "" : key[(slash + 1)..].TrimEnd('\\'));
    }

    internal static string Parent(string relative) => relative.LastIndexOf('\\') is var i and >= 0 ? relative[..i] : "";

    private int Change(string key, Action<SimulatedHive, string> change)
    {
        lock (deviceLock)
        {
            var (hive, relative) = Open(key);
            if (hive is null)
            {
                return 2;
            }
            var content = Read(hive.File);
            change(content, relative);
            Write(hive.File, content);
            return 0;
        }
    }

    private void Save(List<LoadedHive> loaded)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(LoadedFile)!);
        DurableFile.WriteJson(LoadedFile, loaded);
    }

    private string ContentPath(string file) =>
        Path.Combine([folder, "hives", "files", .. file.Replace(":", "", StringComparison.Ordinal).Split('\\', StringSplitOptions.RemoveEmptyEntries)]) + ".json";
}

/// <summary>HKEY_USERS on the simulated device: the keys of the loaded hives and their descriptors (<c>HKU\&lt;name&gt;\…</c>).</summary>
public sealed class SimulatedHiveRegistry(SimulatedHiveCalls hives) : ISecurityStore
{
    public bool PropagatesInheritance => false;

    public byte[] ReadDescriptor(string path)
    {
        var (hive, relative) = Locate(path);
        return hives.Read(hive.File).Keys.TryGetValue(relative, out var descriptor)
            ? descriptor
            : throw new SecurityStoreException(SecurityStoreErrorKind.NotFound, path, $"No key at {path}.");
    }

    public void WriteDescriptor(string path, ReadOnlySpan<byte> descriptor)
    {
        var (hive, relative) = Locate(path);
        var content = hives.Read(hive.File);
        if (!content.Keys.ContainsKey(relative))
        {
            throw new SecurityStoreException(SecurityStoreErrorKind.NotFound, path, $"No key at {path}.");
        }
        content.Keys[relative] = descriptor.ToArray();
        hives.Write(hive.File, content);
    }

    public IEnumerable<string> EnumerateChildren(string path)
    {
        var (hive, relative) = Locate(path);
        var prefix = path.TrimEnd('\\');
        return [.. hives.Read(hive.File).Keys.Keys
            .Where(k => k.Length > 0 && SimulatedHiveCalls.Parent(k).Equals(relative, StringComparison.OrdinalIgnoreCase))
            .Select(k => prefix + "\\" + k.Split('\\')[^1])];
    }

    private (LoadedHive Hive, string Relative) Locate(string path)
    {
        if (!path.StartsWith(@"HKU\", StringComparison.OrdinalIgnoreCase))
        {
            throw new SecurityStoreException(SecurityStoreErrorKind.NotFound, path, $"{path} is not under HKEY_USERS.");
        }
        var (hive, relative) = hives.Open(path[@"HKU\".Length..]);
        return hive is null
            ? throw new SecurityStoreException(SecurityStoreErrorKind.NotFound, path, $"No hive is loaded at {path}.")
            : (hive, relative);
    }
}
