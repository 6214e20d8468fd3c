using Rehome.Security.Reacl;
using Rehome.Security.Sddl;
using Rehome.Security.Stores;

namespace Rehome.Security.Tests.Stores;

/// <summary>
/// What every <see cref="ISecurityStore"/> must do, run against each store by a subclass that says how to make, remove
/// and name items in it. Every item failure is a <see cref="SecurityStoreException"/> of the right kind.
/// </summary>
public abstract class SecurityStoreContract
{
    protected static readonly byte[] Granted = SddlParser.Parse(
        "O:S-1-5-21-1000-2000-3000-1105G:S-1-5-21-1000-2000-3000-513D:AI(A;OICI;FA;;;S-1-5-21-1000-2000-3000-1105)(A;OICIID;FA;;;BA)(A;OICIID;0x1200a9;;;BU)").ToBinary();

    protected static readonly byte[] Other = SddlParser.Parse("O:BAG:SYD:PAI(A;OICI;FA;;;BA)(A;OICI;FA;;;SY)").ToBinary();

    protected abstract ISecurityStore Store { get; }

    /// <summary>An existing folder item the test may fill.</summary>
    protected abstract string Root { get; }

    protected abstract string Child(string parent, string name);

    protected abstract void CreateFolder(string path, byte[] descriptor);

    protected abstract void CreateFile(string path, byte[] descriptor);

    /// <summary>Removes the item as something outside the walk would (a file deleted, a drive gone).</summary>
    protected abstract void Delete(string path);

    [Fact]
    public void A_written_descriptor_reads_back_byte_for_byte_on_files_and_folders()
    {
        var folder = Child(Root, "folder");
        var file = Child(folder, "file.txt");
        CreateFolder(folder, Other);
        CreateFile(file, Other);

        Store.WriteDescriptor(folder, Granted);
        Store.WriteDescriptor(file, Granted);

        Assert.Equal(Granted, Store.ReadDescriptor(folder));
        Assert.Equal(Granted, Store.ReadDescriptor(file));
    }

    [Fact]
    public void Writing_to_a_missing_item_is_not_found()
    {
        var error = Assert.Throws<SecurityStoreException>(() => Store.WriteDescriptor(Child(Root, "missing.txt"), Granted));

        Assert.Equal(SecurityStoreErrorKind.NotFound, error.Kind);
    }

    [Fact]
    public void Reading_an_item_that_vanished_is_not_found()
    {
        var file = Child(Root, "vanishing.txt");
        CreateFile(file, Granted);
        Delete(file);

        var error = Assert.Throws<SecurityStoreException>(() => Store.ReadDescriptor(file));

        Assert.Equal(SecurityStoreErrorKind.NotFound, error.Kind);
    }

    [Fact]
    public void Listing_a_folder_that_vanished_is_not_found()
    {
        var folder = Child(Root, "vanishing");
        CreateFolder(folder, Granted);
        Delete(folder);

        var error = Assert.Throws<SecurityStoreException>(() => Store.EnumerateChildren(folder).ToList());

        Assert.Equal(SecurityStoreErrorKind.NotFound, error.Kind);
    }

    [Fact]
    public void A_folder_lists_its_files_and_folders_and_a_file_lists_nothing()
    {
        var folder = Child(Root, "parent");
        CreateFolder(folder, Granted);
        CreateFile(Child(folder, "a.txt"), Granted);
        CreateFile(Child(folder, "b.txt"), Other);
        CreateFolder(Child(folder, "sub"), Granted);
        CreateFile(Child(Child(folder, "sub"), "deep.txt"), Granted);

        Assert.Equal(
            [Child(folder, "a.txt"), Child(folder, "b.txt"), Child(folder, "sub")],
            Store.EnumerateChildren(folder).Order(StringComparer.Ordinal));
        Assert.Empty(Store.EnumerateChildren(Child(folder, "a.txt")));
    }

    [Fact]
    public void A_malformed_descriptor_is_refused_and_the_item_keeps_its_descriptor()
    {
        var file = Child(Root, "kept.txt");
        CreateFile(file, Granted);
        var truncated = Other[..(Other.Length - 3)];
        var notSelfRelative = (byte[])Other.Clone();
        notSelfRelative[3] &= 0x7F;

        foreach (var malformed in new[] { truncated, notSelfRelative, [1, 0] })
        {
            var error = Assert.Throws<SecurityStoreException>(() => Store.WriteDescriptor(file, malformed));
            Assert.Equal(SecurityStoreErrorKind.Other, error.Kind);
        }

        Assert.Equal(Granted, Store.ReadDescriptor(file));
    }

    [Fact]
    public void A_revert_from_the_undo_journal_writes_back_the_same_bytes()
    {
        var file = Child(Root, "reverted.txt");
        CreateFile(file, Granted);
        var journal = Path.Combine(Path.GetTempPath(), $"rehome-contract-{Guid.NewGuid():N}.journal");
        try
        {
            using (var undo = UndoJournal.Open(journal))
            {
                undo.Record(file, Store.ReadDescriptor(file));
            }

            Store.WriteDescriptor(file, Other);
            var revert = UndoJournal.Revert(Store, journal);

            Assert.Equal(1, revert.Restored);
            Assert.Equal(Granted, Store.ReadDescriptor(file));
        }
        finally
        {
            File.Delete(journal);
        }
    }

    [Fact]
    public void A_revert_of_an_item_that_vanished_reports_it_as_not_found()
    {
        var file = Child(Root, "gone-before-revert.txt");
        CreateFile(file, Granted);
        var journal = Path.Combine(Path.GetTempPath(), $"rehome-contract-{Guid.NewGuid():N}.journal");
        try
        {
            using (var undo = UndoJournal.Open(journal))
            {
                undo.Record(file, Granted);
            }

            Delete(file);
            var revert = UndoJournal.Revert(Store, journal);

            Assert.Equal(0, revert.Restored);
            Assert.Equal(SecurityStoreErrorKind.NotFound, Assert.Single(revert.Errors).Kind);
        }
        finally
        {
            File.Delete(journal);
        }
    }
}

/// <summary>The contract for stores that can be made to refuse a write (a read-only or immutable item).</summary>
public abstract class DenyingSecurityStoreContract : SecurityStoreContract
{
    /// <summary>Makes the platform refuse writes of the item's descriptor.</summary>
    protected abstract void DenyWrites(string path);

    [Fact]
    public void A_write_the_platform_refuses_is_access_denied_and_changes_nothing()
    {
        var file = Child(Root, "denied.txt");
        CreateFile(file, Granted);
        DenyWrites(file);

        var error = Assert.Throws<SecurityStoreException>(() => Store.WriteDescriptor(file, Other));

        Assert.Equal(SecurityStoreErrorKind.AccessDenied, error.Kind);
        Assert.Equal(Granted, Store.ReadDescriptor(file));
    }
}

/// <summary>The contract for stores whose items another process can hold open (a sharing violation).</summary>
public abstract class LockingSecurityStoreContract : DenyingSecurityStoreContract
{
    /// <summary>Makes another "process" hold the item so that neither its descriptor can be read nor written.</summary>
    protected abstract void HoldOpen(string path);

    [Fact]
    public void An_item_another_process_holds_is_in_use_for_reads_and_writes()
    {
        var file = Child(Root, "pagefile.sys");
        CreateFile(file, Granted);
        HoldOpen(file);

        Assert.Equal(SecurityStoreErrorKind.InUse, Assert.Throws<SecurityStoreException>(() => Store.ReadDescriptor(file)).Kind);
        Assert.Equal(SecurityStoreErrorKind.InUse, Assert.Throws<SecurityStoreException>(() => Store.WriteDescriptor(file, Other)).Kind);
    }
}
