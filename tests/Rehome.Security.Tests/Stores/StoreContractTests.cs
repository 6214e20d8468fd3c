using System.Runtime.Versioning;
using Rehome.Agent.Platform.Simulated;
using Rehome.Security.Stores;
using Rehome.Security.Tests.Support;

namespace Rehome.Security.Tests.Stores;

/// <summary>The contract on the in-memory store of the tests and rehearsals.</summary>
public sealed class InMemoryStoreContractTests : LockingSecurityStoreContract
{
    private readonly InMemorySecurityStore store = new();

    public InMemoryStoreContractTests()
    {
        store.Set(Root, Other);
    }

    protected override ISecurityStore Store => store;

    protected override string Root => "/c";

    protected override string Child(string parent, string name) => parent + "/" + name;

    protected override void CreateFolder(string path, byte[] descriptor) => store.Set(path, descriptor);

    protected override void CreateFile(string path, byte[] descriptor) => store.Set(path, descriptor);

    protected override void Delete(string path) => store.Remove(path);

    protected override void DenyWrites(string path) => store.FailOn(path, SecurityStoreErrorKind.AccessDenied, writesOnly: true);

    protected override void HoldOpen(string path) => store.FailOn(path, SecurityStoreErrorKind.InUse);
}

/// <summary>The contract on the simulated device's folder store (items are files, descriptors files beside them).</summary>
public sealed class FolderStoreContractTests : SecurityStoreContract, IDisposable
{
    private readonly string device = Directory.CreateTempSubdirectory("rehome-folder-store-").FullName;
    private readonly FolderSecurityStore store;

    public FolderStoreContractTests()
    {
        store = new FolderSecurityStore(device);
        store.Create(Root, isFolder: true, Other);
    }

    protected override ISecurityStore Store => store;

    protected override string Root => @"C:\Area";

    public void Dispose() => Directory.Delete(device, recursive: true);

    [Fact]
    public void A_drive_the_device_does_not_have_is_not_found_and_a_path_leaving_the_device_is_refused()
    {
        Assert.Equal(SecurityStoreErrorKind.NotFound, Assert.Throws<SecurityStoreException>(() => store.ReadDescriptor(@"D:\Data")).Kind);
        Assert.Equal(SecurityStoreErrorKind.Other, Assert.Throws<SecurityStoreException>(() => store.ReadDescriptor(@"C:\Area\..\..\..\etc\passwd")).Kind);
    }

    protected override string Child(string parent, string name) => parent + "\\" + name;

    protected override void CreateFolder(string path, byte[] descriptor) => store.Create(path, isFolder: true, descriptor);

    protected override void CreateFile(string path, byte[] descriptor) => store.Create(path, isFolder: false, descriptor);

    protected override void Delete(string path)
    {
        var item = Path.Combine([device, "drives", "C", .. path.Split('\\')[1..]]);
        if (Directory.Exists(item))
        {
            Directory.Delete(item, recursive: true);
        }
        else
        {
            File.Delete(item);
        }
    }
}

/// <summary>An NTFS image mounted with ntfs-3g, shared by the tests of one class (needs root).</summary>
[SupportedOSPlatform("linux")]
public sealed class NtfsVolumeFixture : IDisposable
{
    private readonly NtfsVolume volume = new(megabytes: 16);

    public string MountPoint => volume.MountPoint;

    public void Dispose() => volume.Dispose();
}

/// <summary>The contract on a real NTFS volume through ntfs-3g's <c>system.ntfs_acl</c>.</summary>
[SupportedOSPlatform("linux")]
public sealed class NtfsStoreContractTests : SecurityStoreContract, IClassFixture<NtfsVolumeFixture>
{
    private readonly NtfsSecurityStore store = new();

    public NtfsStoreContractTests(NtfsVolumeFixture volume)
    {
        ArgumentNullException.ThrowIfNull(volume);
        Root = Path.Combine(volume.MountPoint, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
    }

    protected override ISecurityStore Store => store;

    protected override string Root { get; }

    protected override string Child(string parent, string name) => Path.Combine(parent, name);

    protected override void CreateFolder(string path, byte[] descriptor) => FileSystemItems.CreateFolder(store, path, descriptor);

    protected override void CreateFile(string path, byte[] descriptor) => FileSystemItems.CreateFile(store, path, descriptor);

    protected override void Delete(string path) => FileSystemItems.Delete(path);
}

/// <summary>The contract on Samba's <c>security.NTACL</c> attribute on the local file system; an immutable file refuses writes.</summary>
[SupportedOSPlatform("linux")]
public sealed class SambaNtaclStoreContractTests : DenyingSecurityStoreContract, IDisposable
{
    private readonly SambaNtaclSecurityStore store = new();
    private readonly List<string> immutable = [];

    public SambaNtaclStoreContractTests()
    {
        Root = Directory.CreateTempSubdirectory("rehome-ntacl-contract-").FullName;
        store.WriteDescriptor(Root, Other);
    }

    protected override ISecurityStore Store => store;

    protected override string Root { get; }

    public void Dispose()
    {
        foreach (var path in immutable)
        {
            Processes.Run("chattr", "-i", path);
        }

        Directory.Delete(Root, recursive: true);
    }

    protected override string Child(string parent, string name) => Path.Combine(parent, name);

    protected override void CreateFolder(string path, byte[] descriptor) => FileSystemItems.CreateFolder(store, path, descriptor);

    protected override void CreateFile(string path, byte[] descriptor) => FileSystemItems.CreateFile(store, path, descriptor);

    protected override void Delete(string path) => FileSystemItems.Delete(path);

    protected override void DenyWrites(string path)
    {
        Processes.Run("chattr", "+i", path); // EPERM for setxattr, even for root
        immutable.Add(path);
    }
}

/// <summary>The contract on the Windows store, through its native seam (a fake that answers as Windows does).</summary>
public sealed class WindowsStoreContractTests : LockingSecurityStoreContract
{
    private readonly FakeWindowsSecurityCalls windows = new();
    private readonly WindowsSecurityStore store;

    public WindowsStoreContractTests()
    {
        windows.AddFile(@"\\?\C:\", Other, isFolder: true);
        windows.AddFile(@"\\?\C:\Area", Other, isFolder: true);
        store = new WindowsSecurityStore(windows, includeSacl: true);
    }

    protected override ISecurityStore Store => store;

    protected override string Root => @"C:\Area";

    protected override string Child(string parent, string name) => parent + "\\" + name;

    protected override void CreateFolder(string path, byte[] descriptor) => windows.AddFile(@"\\?\" + path, descriptor, isFolder: true);

    protected override void CreateFile(string path, byte[] descriptor) => windows.AddFile(@"\\?\" + path, descriptor, isFolder: false);

    protected override void Delete(string path) => windows.RemoveFile(@"\\?\" + path);

    protected override void DenyWrites(string path) => windows.Deny(@"\\?\" + path);

    protected override void HoldOpen(string path) => windows.Lock(@"\\?\" + path);
}

/// <summary>Items of the Linux file-system stores: real folders and files, their descriptors written through the store.</summary>
internal static class FileSystemItems
{
    public static void CreateFolder(ISecurityStore store, string path, byte[] descriptor)
    {
        Directory.CreateDirectory(path);
        store.WriteDescriptor(path, descriptor);
    }

    public static void CreateFile(ISecurityStore store, string path, byte[] descriptor)
    {
        File.WriteAllBytes(path, []);
        store.WriteDescriptor(path, descriptor);
    }

    public static void Delete(string path)
    {
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
        else
        {
            File.Delete(path);
        }
    }
}
