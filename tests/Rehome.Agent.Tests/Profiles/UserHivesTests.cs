using Rehome.Agent.Platform;
using Rehome.Security.Stores;

namespace Rehome.Agent.Tests.Profiles;

/// <summary>HKEY_USERS as Windows answers it: loaded names, files in use, unloads refused while handles linger.</summary>
internal sealed class FakeHiveCalls : IHiveCalls
{
    public HashSet<string> Loaded { get; } = new(StringComparer.OrdinalIgnoreCase);

    public HashSet<string> Files { get; } = new(StringComparer.OrdinalIgnoreCase);

    public List<string> Calls { get; } = [];

    /// <summary>Unload errors to answer, in order, before unloads succeed.</summary>
    public Queue<int> UnloadErrors { get; } = new();

    public int LoadError { get; set; }

    public int PrivilegeError { get; set; }

    public bool IsLoaded(string name) => Loaded.Contains(name);

    public int EnablePrivileges()
    {
        Calls.Add("privileges");
        return PrivilegeError;
    }

    public bool FileExists(string file) => Files.Contains(file);

    public int Load(string name, string file)
    {
        Calls.Add($"load {name} {file}");
        if (LoadError != 0)
        {
            return LoadError;
        }
        Loaded.Add(name);
        return 0;
    }

    public int Unload(string name)
    {
        Calls.Add($"unload {name}");
        if (UnloadErrors.TryDequeue(out var error))
        {
            return error;
        }
        return Loaded.Remove(name) ? 0 : 87;
    }

    public IReadOnlyList<string> SubkeyNames(string key) => [];

    public RegistryValue? GetValue(string key, string name) => null;

    public int SetValue(string key, RegistryValue value) => 0;

    public int DeleteValue(string key, string name) => 0;

    public string Describe(int error) => $"error text {error}";
}

/// <summary>Registry keys by backslash paths, as the Windows path store names them.</summary>
internal sealed class BackslashStore : ISecurityStore
{
    public Dictionary<string, byte[]> Items { get; } = new(StringComparer.OrdinalIgnoreCase);

    public bool PropagatesInheritance => false;

    public byte[] ReadDescriptor(string path) =>
        Items.TryGetValue(path, out var descriptor) ? descriptor : throw new SecurityStoreException(SecurityStoreErrorKind.NotFound, path, $"No key at {path}.");

    public void WriteDescriptor(string path, ReadOnlySpan<byte> descriptor) => Items[path] = descriptor.ToArray();

    public IEnumerable<string> EnumerateChildren(string path) =>
        [.. Items.Keys.Where(k => k.StartsWith(path + "\\", StringComparison.OrdinalIgnoreCase) && !k[(path.Length + 1)..].Contains('\\', StringComparison.Ordinal))];
}

public sealed class UserHivesTests
{
    private const string Sid = "S-1-5-21-1004336348-1177238915-682003330-10001";
    private const string Destination = "S-1-5-21-2222222222-3333333333-444444444-10001";
    private static readonly UserProfile Profile = new(Sid, @"C:\Users\user00001");

    private readonly FakeHiveCalls calls = new();
    private readonly BackslashStore registry = new();
    private readonly List<TimeSpan> waits = [];

    public UserHivesTests()
    {
        calls.Files.Add(@"C:\Users\user00001\NTUSER.DAT");
        calls.Files.Add(@"C:\Users\user00001\AppData\Local\Microsoft\Windows\UsrClass.dat");
    }

    private UserHives Hives => new(calls, registry, () => [Profile], waits.Add);

    [Fact]
    public void A_signed_out_users_hives_are_loaded_under_a_temporary_key_with_the_privileges_and_unloaded_on_close()
    {
        var session = Hives.Open([Profile]);

        Assert.Equal(["privileges", $@"load Rehome_{Sid} C:\Users\user00001\NTUSER.DAT", $@"load Rehome_{Sid}_Classes C:\Users\user00001\AppData\Local\Microsoft\Windows\UsrClass.dat"], calls.Calls);
        Assert.Equal([$@"HKU\{Sid}", $@"HKU\{Sid}_Classes"], session.Roots);
        Assert.Equal($@"HKU\Rehome_{Sid}\Software", session.Locate($@"HKU\{Sid}\Software"));
        Assert.Empty(session.Close());
        Assert.Empty(calls.Loaded);
        Assert.Empty(waits);
    }

    [Fact]
    public void A_signed_in_users_hives_are_walked_in_place_and_never_unloaded()
    {
        calls.Loaded.UnionWith([Sid, Sid + "_Classes"]);

        var session = Hives.Open([Profile]);

        Assert.Equal($@"HKU\{Sid}\Software", session.Locate($@"HKU\{Sid}\Software"));
        Assert.Empty(session.Close());
        Assert.DoesNotContain(calls.Calls, c => c.StartsWith("load", StringComparison.Ordinal) || c.StartsWith("unload", StringComparison.Ordinal) || c == "privileges");
        Assert.Contains(Sid, calls.Loaded);
    }

    [Fact]
    public void Hives_loaded_by_the_destination_account_after_a_hand_over_are_found_under_its_sid_and_keep_their_item_names()
    {
        calls.Loaded.UnionWith([Destination, Destination + "_Classes"]);

        var session = Hives.Open([Profile], alsoLoadedAs: Destination);

        Assert.Equal($@"HKU\{Destination}_Classes\Local Settings", session.Locate($@"HKU\{Sid}_Classes\Local Settings"));
        Assert.Empty(session.Close());
        Assert.Contains(Destination, calls.Loaded);
    }

    [Fact]
    public void A_hive_left_loaded_by_an_interrupted_job_is_walked_and_unloaded_not_loaded_twice()
    {
        calls.Loaded.UnionWith(["Rehome_" + Sid]);

        var session = Hives.Open([Profile]);
        session.Close();

        Assert.DoesNotContain($@"load Rehome_{Sid} C:\Users\user00001\NTUSER.DAT", calls.Calls);
        Assert.Contains($"unload Rehome_{Sid}", calls.Calls);
        Assert.Empty(calls.Loaded);
    }

    [Fact]
    public void An_unload_refused_while_handles_linger_is_retried_with_a_growing_back_off()
    {
        var session = Hives.Open([Profile]);
        calls.UnloadErrors.Enqueue(5);
        calls.UnloadErrors.Enqueue(5);

        Assert.Empty(session.Close());

        Assert.Equal([TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(250)], waits);
        Assert.Empty(calls.Loaded);
    }

    [Fact]
    public void A_hive_that_will_not_unload_is_reported_with_the_error_after_every_attempt()
    {
        var session = Hives.Open([Profile]);
        for (var i = 0; i < 20; i++)
        {
            calls.UnloadErrors.Enqueue(5);
        }

        var problems = session.Close();

        var problem = Assert.Single(problems, p => p.Contains($"Rehome_{Sid} ", StringComparison.Ordinal));
        Assert.Contains("error text 5 (5)", problem, StringComparison.Ordinal);
        Assert.Equal(6, calls.Calls.Count(c => c == $"unload Rehome_{Sid}"));
        Assert.Equal(2 * UserHives.UnloadBackoff.Count, waits.Count);
    }

    [Fact]
    public void A_hive_whose_file_is_in_use_fails_as_an_item_in_use_and_the_others_are_still_opened()
    {
        calls.LoadError = 32;

        var session = Hives.Open([Profile]);

        var error = Assert.Throws<SecurityStoreException>(() => session.Store.ReadDescriptor($@"HKU\{Sid}\Software"));
        Assert.Equal(SecurityStoreErrorKind.InUse, error.Kind);
        Assert.Contains("error text 32", error.Message, StringComparison.Ordinal);
        Assert.Contains($@"HKU\{Sid}", session.Roots);
    }

    [Fact]
    public void A_profile_without_its_user_hive_fails_as_not_found_and_a_missing_classes_hive_is_no_error()
    {
        calls.Files.Clear();

        var session = Hives.Open([Profile]);

        Assert.Equal([$@"HKU\{Sid}"], session.Roots);
        Assert.Equal(SecurityStoreErrorKind.NotFound, Assert.Throws<SecurityStoreException>(() => session.Locate($@"HKU\{Sid}")).Kind);
    }

    [Fact]
    public void No_hive_is_loaded_when_the_privileges_cannot_be_enabled()
    {
        calls.PrivilegeError = 1300;

        var error = Assert.Throws<HiveException>(() => Hives.Open([Profile]));

        Assert.Contains("error text 1300", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(calls.Calls, c => c.StartsWith("load", StringComparison.Ordinal));
    }

    [Fact]
    public void The_area_names_children_by_the_users_sid_wherever_the_hive_is_loaded()
    {
        registry.Items[$@"HKU\Rehome_{Sid}"] = [1];
        registry.Items[$@"HKU\Rehome_{Sid}\Software"] = [2];
        using var area = Hives.OpenArea();

        Assert.Equal([$@"HKU\{Sid}\Software"], area.Store!.EnumerateChildren($@"HKU\{Sid}"));
        Assert.Equal([2], area.Store.ReadDescriptor($@"HKU\{Sid}\Software"));
    }

    [Fact]
    public void Disposing_the_area_throws_when_a_hive_stays_loaded_so_that_it_is_never_left_silently()
    {
        var area = Hives.OpenArea();
        for (var i = 0; i < 20; i++)
        {
            calls.UnloadErrors.Enqueue(5);
        }

        var error = Assert.Throws<HiveException>(area.Dispose);

        Assert.Contains("stays loaded", error.Message, StringComparison.Ordinal);
    }
}
