using Rehome.Security.Descriptors;
using Rehome.Security.Reacl;
using Rehome.Security.Sddl;
using Rehome.Security.Sids;
using Rehome.Security.Stores;

namespace Rehome.Security.Tests.Stores;

/// <summary>The Windows store's decisions, through its native seam: how items are named, opened, listed and mapped.</summary>
public sealed class WindowsSecurityStoreTests : IDisposable
{
    private const string Hklm = "HKLM";
    private static readonly SecurityIdentifier Source = SecurityIdentifier.Parse("S-1-5-21-1000-2000-3000");
    private static readonly SecurityIdentifier Destination = SecurityIdentifier.Parse("S-1-5-21-4000-5000-6000");
    private static readonly byte[] SourceGrant = Descriptor($"O:{Source.WithRid(1105)}G:{Source.WithRid(513)}D:AI(A;OICI;FA;;;{Source.WithRid(1105)})(A;OICIID;FA;;;BA)");
    private static readonly byte[] Inherited = Descriptor($"O:BAG:SYD:AI(A;OICIID;FA;;;{Source.WithRid(1105)})(A;OICIID;FA;;;BA)");
    private readonly FakeWindowsSecurityCalls windows = new();
    private readonly string work = Directory.CreateTempSubdirectory("rehome-windows-store-").FullName;

    public void Dispose() => Directory.Delete(work, recursive: true);

    private static byte[] Descriptor(string sddl) => SddlParser.Parse(sddl).ToBinary();

    private static SidMap Map()
    {
        var map = new SidMap();
        map.Add(Source.WithRid(1105), Destination.WithRid(1105));
        map.Add(Source.WithRid(513), Destination.WithRid(513));
        return map;
    }

    private WindowsSecurityStore Store(bool includeSacl = false) => new(windows, includeSacl);

    [Theory]
    [InlineData(@"C:\Users\ada", @"\\?\C:\Users\ada")]
    [InlineData(@"C:\Users\ada\", @"\\?\C:\Users\ada")]
    [InlineData(@"C:", @"\\?\C:\")]
    [InlineData(@"C:\", @"\\?\C:\")]
    [InlineData(@"c:/Data/./reports/../shared//x.txt", @"\\?\c:\Data\shared\x.txt")]
    [InlineData(@"C:\..\..\Windows", @"\\?\C:\Windows")]
    [InlineData(@"\\files\share\team", @"\\?\UNC\files\share\team")]
    [InlineData(@"\\files\share", @"\\?\UNC\files\share\")]
    [InlineData(@"\\files\share\..\..\other", @"\\?\UNC\files\share\other")]
    [InlineData(@"\\?\C:\already verbatim\name. ", @"\\?\C:\already verbatim\name. ")]
    [InlineData(@"\\?\UNC\files\share\x", @"\\?\UNC\files\share\x")]
    [InlineData(@"\\?\Volume{0b1c2d3e-0000-0000-0000-100000000000}\", @"\\?\Volume{0b1c2d3e-0000-0000-0000-100000000000}\")]
    public void File_paths_reach_windows_in_their_verbatim_form(string path, string verbatim)
    {
        Assert.Equal(verbatim, WindowsPaths.ToVerbatim(path));
    }

    [Theory]
    [InlineData(@"Users\ada")]
    [InlineData(@"C:Users")]
    [InlineData(@"\\files")]
    [InlineData("")]
    public void A_path_that_is_not_absolute_has_no_verbatim_form_and_the_store_refuses_it(string path)
    {
        Assert.Null(WindowsPaths.ToVerbatim(path));
        Assert.Equal(SecurityStoreErrorKind.Other, Assert.Throws<SecurityStoreException>(() => Store().ReadDescriptor(path)).Kind);
    }

    [Fact]
    public void A_path_over_260_characters_is_read_written_and_listed()
    {
        var folder = @"C:\" + string.Join('\\', Enumerable.Range(0, 12).Select(index => $"a folder with a long name {index:D2}"));
        var file = folder + @"\file.txt";
        Assert.True(file.Length > FakeWindowsSecurityCalls.MaxPath);
        windows.AddFile(@"\\?\" + folder, SourceGrant, isFolder: true);
        windows.AddFile(@"\\?\" + file, SourceGrant, isFolder: false);
        var store = Store();

        store.WriteDescriptor(file, Inherited);

        Assert.Equal(Inherited, store.ReadDescriptor(file));
        Assert.Equal([file], store.EnumerateChildren(folder));
    }

    [Fact]
    public void Items_are_opened_by_handle_with_backup_semantics_without_following_reparse_points_and_only_the_rights_each_call_needs()
    {
        windows.AddFile(@"\\?\C:\Data", SourceGrant, isFolder: true);
        var store = Store();

        store.WriteDescriptor(@"C:\Data", store.ReadDescriptor(@"C:\Data"));

        Assert.Equal(
            new[]
            {
                (@"\\?\C:\Data", WindowsSecurityStore.ReadControl, WindowsSecurityStore.BackupSemantics | WindowsSecurityStore.OpenReparsePoint),
                (@"\\?\C:\Data", WindowsSecurityStore.WriteDac | WindowsSecurityStore.WriteOwner, WindowsSecurityStore.BackupSemantics | WindowsSecurityStore.OpenReparsePoint),
            },
            windows.Opens);
        Assert.Equal(0, windows.OpenHandles);
    }

    [Fact]
    public void With_sacls_items_are_opened_for_system_security_under_the_security_privilege()
    {
        windows.AddFile(@"\\?\C:\Data", SourceGrant, isFolder: true);
        var store = Store(includeSacl: true);

        store.WriteDescriptor(@"C:\Data", store.ReadDescriptor(@"C:\Data"));

        Assert.All(windows.Opens, open => Assert.NotEqual(0u, open.Access & WindowsSecurityStore.AccessSystemSecurity));
    }

    [Fact]
    public void The_store_does_not_propagate_inheritance_so_the_walker_translates_inherited_aces()
    {
        windows.AddFile(@"\\?\C:\Data", SourceGrant, isFolder: true);
        windows.AddFile(@"\\?\C:\Data\inherited.txt", Inherited, isFolder: false);
        var store = Store();

        var result = new SecurityWalker(store, Map(), new TranslationOptions(), new WalkOptions { UndoJournalFile = Path.Combine(work, "undo") }).Walk([@"C:\Data"], []);

        Assert.False(store.PropagatesInheritance);
        Assert.Equal(2, result.Changed);
        Assert.Equal(
            $"O:BAG:SYD:AI(A;OICIID;FA;;;{Destination.WithRid(1105)})(A;OICIID;FA;;;BA)",
            SddlWriter.Write(SecurityDescriptor.FromBinary(windows.FileDescriptor(@"\\?\C:\Data\inherited.txt"))));
    }

    [Fact]
    public void A_junction_pointing_outside_the_area_is_migrated_itself_but_never_walked_into()
    {
        windows.AddFile(@"\\?\C:\Outside", SourceGrant, isFolder: true);
        windows.AddFile(@"\\?\C:\Outside\secret.txt", SourceGrant, isFolder: false);
        windows.AddFile(@"\\?\C:\Area", SourceGrant, isFolder: true);
        windows.AddFile(@"\\?\C:\Area\link", SourceGrant, isFolder: true, reparseTarget: @"\\?\C:\Outside");
        var store = Store();

        var result = new SecurityWalker(store, Map(), new TranslationOptions(), new WalkOptions { UndoJournalFile = Path.Combine(work, "undo") }).Walk([@"C:\Area"], []);

        Assert.Equal(2, result.Seen);
        Assert.Empty(store.EnumerateChildren(@"C:\Area\link"));
        Assert.Equal(SourceGrant, windows.FileDescriptor(@"\\?\C:\Outside"));
        Assert.Equal(SourceGrant, windows.FileDescriptor(@"\\?\C:\Outside\secret.txt"));
        Assert.NotEqual(SourceGrant, windows.FileDescriptor(@"\\?\C:\Area\link"));
    }

    [Fact]
    public void A_descriptor_larger_than_the_first_buffer_is_read_whole()
    {
        var aces = string.Concat(Enumerable.Range(0, 200).Select(index => $"(A;OICI;FA;;;{Source.WithRid((uint)(2000 + index))})"));
        var large = Descriptor($"O:BAG:SYD:PAI{aces}");
        windows.AddFile(@"\\?\C:\Large", large, isFolder: true);

        Assert.True(large.Length > 1024);
        Assert.Equal(large, Store().ReadDescriptor(@"C:\Large"));
    }

    [Fact]
    public void Registry_keys_are_opened_for_backup_without_following_links_and_list_their_subkeys_in_the_callers_spelling()
    {
        windows.AddKey(Hklm, "SOFTWARE", SourceGrant);
        windows.AddKey(Hklm, @"SOFTWARE\Contoso", SourceGrant);
        windows.AddKey(Hklm, @"SOFTWARE\Contoso\Settings", SourceGrant);
        windows.AddKey(Hklm, @"SOFTWARE\Contoso\Link", SourceGrant, linkTarget: "SOFTWARE");
        var store = Store();

        var children = store.EnumerateChildren(@"registry:MACHINE\SOFTWARE\Contoso").Order(StringComparer.Ordinal).ToList();
        store.WriteDescriptor(@"registry:MACHINE\SOFTWARE\Contoso\Link", Inherited);

        Assert.Equal([@"registry:MACHINE\SOFTWARE\Contoso\Link", @"registry:MACHINE\SOFTWARE\Contoso\Settings"], children);
        Assert.All(windows.Opens, open => Assert.Equal(WindowsSecurityStore.RegistryBackupRestore | WindowsSecurityStore.RegistryOpenLink, open.Flags));
        Assert.Empty(store.EnumerateChildren(@"registry:MACHINE\SOFTWARE\Contoso\Link"));
        Assert.Equal(Inherited, windows.KeyDescriptor(Hklm, @"SOFTWARE\Contoso\Link"));
        Assert.Equal(SourceGrant, windows.KeyDescriptor(Hklm, "SOFTWARE"));
        Assert.Equal(0, windows.OpenHandles);
    }

    [Fact]
    public void A_registry_walk_reverts_to_the_same_bytes()
    {
        windows.AddKey(Hklm, @"SOFTWARE\Contoso", SourceGrant);
        windows.AddKey(Hklm, @"SOFTWARE\Contoso\Settings", Inherited);
        var store = Store();
        var journal = Path.Combine(work, "undo");

        var result = new SecurityWalker(store, Map(), new TranslationOptions(), new WalkOptions { UndoJournalFile = journal }).Walk([@"registry:MACHINE\SOFTWARE\Contoso"], []);
        var revert = UndoJournal.Revert(store, journal);

        Assert.Equal(2, result.Changed);
        Assert.Equal(2, revert.Restored);
        Assert.Equal(SourceGrant, windows.KeyDescriptor(Hklm, @"SOFTWARE\Contoso"));
        Assert.Equal(Inherited, windows.KeyDescriptor(Hklm, @"SOFTWARE\Contoso\Settings"));
    }

    [Fact]
    public void A_missing_key_or_unknown_hive_is_not_found()
    {
        var store = Store();

        Assert.Equal(SecurityStoreErrorKind.NotFound, Assert.Throws<SecurityStoreException>(() => store.ReadDescriptor(@"registry:MACHINE\SOFTWARE\Nothing")).Kind);
        Assert.Equal(SecurityStoreErrorKind.NotFound, Assert.Throws<SecurityStoreException>(() => store.ReadDescriptor(@"registry:NOWHERE\x")).Kind);
    }

    [Fact]
    public void A_missing_drive_is_not_found_and_a_walk_over_it_goes_on_with_the_next_area()
    {
        windows.AddFile(@"\\?\C:\Data", SourceGrant, isFolder: true);
        var store = Store();

        var result = new SecurityWalker(store, Map(), new TranslationOptions(), new WalkOptions { UndoJournalFile = Path.Combine(work, "undo") }).Walk([@"E:\", @"C:\Data"], []);

        Assert.Equal(1, result.Changed);
        Assert.All(result.Errors, error => Assert.Equal((@"E:\", SecurityStoreErrorKind.NotFound), (error.Path, error.Kind)));
    }

    [Fact]
    public void Every_handle_is_closed_when_a_call_on_it_fails()
    {
        windows.AddFile(@"\\?\C:\Data", SourceGrant, isFolder: true);
        windows.AddKey(Hklm, "SOFTWARE", SourceGrant);
        var store = Store();
        windows.SecurityCallError = 1338;

        Assert.Equal(SecurityStoreErrorKind.Other, Assert.Throws<SecurityStoreException>(() => store.WriteDescriptor(@"C:\Data", Inherited)).Kind);
        windows.SecurityCallError = 5;
        Assert.Equal(SecurityStoreErrorKind.AccessDenied, Assert.Throws<SecurityStoreException>(() => store.ReadDescriptor(@"C:\Data")).Kind);
        Assert.Equal(SecurityStoreErrorKind.AccessDenied, Assert.Throws<SecurityStoreException>(() => store.ReadDescriptor(@"registry:MACHINE\SOFTWARE")).Kind);

        Assert.Equal(3, windows.Opens.Count);
        Assert.Equal(0, windows.OpenHandles);
    }

    [Fact]
    public void A_process_without_the_backup_privilege_cannot_open_the_store()
    {
        windows.MissingPrivileges.Add("SeBackupPrivilege");

        var error = Assert.Throws<UnauthorizedAccessException>(() => Store());

        Assert.Contains("SeBackupPrivilege", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(2, SecurityStoreErrorKind.NotFound)]
    [InlineData(3, SecurityStoreErrorKind.NotFound)]
    [InlineData(15, SecurityStoreErrorKind.NotFound)]
    [InlineData(21, SecurityStoreErrorKind.NotFound)]
    [InlineData(1018, SecurityStoreErrorKind.NotFound)]
    [InlineData(5, SecurityStoreErrorKind.AccessDenied)]
    [InlineData(1314, SecurityStoreErrorKind.AccessDenied)]
    [InlineData(32, SecurityStoreErrorKind.InUse)]
    [InlineData(33, SecurityStoreErrorKind.InUse)]
    [InlineData(1338, SecurityStoreErrorKind.Other)]
    [InlineData(87, SecurityStoreErrorKind.Other)]
    public void Win32_error_codes_map_to_the_documented_kinds(int code, SecurityStoreErrorKind kind)
    {
        var error = StoreErrors.FromWin32(code, @"C:\pagefile.sys", "read the security of");

        Assert.Equal(kind, error.Kind);
        Assert.Equal(@"C:\pagefile.sys", error.Path);
        Assert.Contains($"(error {code})", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(2, SecurityStoreErrorKind.NotFound)]
    [InlineData(20, SecurityStoreErrorKind.NotFound)]
    [InlineData(1, SecurityStoreErrorKind.AccessDenied)]
    [InlineData(13, SecurityStoreErrorKind.AccessDenied)]
    [InlineData(30, SecurityStoreErrorKind.AccessDenied)]
    [InlineData(16, SecurityStoreErrorKind.InUse)]
    [InlineData(26, SecurityStoreErrorKind.InUse)]
    [InlineData(61, SecurityStoreErrorKind.Other)]
    [InlineData(5, SecurityStoreErrorKind.Other)]
    public void Linux_errno_values_map_to_the_documented_kinds(int errno, SecurityStoreErrorKind kind)
    {
        Assert.Equal(kind, StoreErrors.KindOfErrno(errno));
    }

    [Fact]
    public void Net_file_system_exceptions_map_to_the_same_kinds()
    {
        Assert.Equal(SecurityStoreErrorKind.NotFound, StoreErrors.FromException(new DirectoryNotFoundException(), "x", "list").Kind);
        Assert.Equal(SecurityStoreErrorKind.AccessDenied, StoreErrors.FromException(new UnauthorizedAccessException(), "x", "list").Kind);
        Assert.Equal(SecurityStoreErrorKind.InUse, StoreErrors.FromException(new IOException("sharing violation", unchecked((int)0x80070020)), "x", "list").Kind);
    }
}
