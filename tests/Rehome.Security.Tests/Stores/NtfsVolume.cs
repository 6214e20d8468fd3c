using Rehome.Security.Tests.Support;

namespace Rehome.Security.Tests.Stores;

/// <summary>A fresh NTFS image made with mkntfs and mounted with ntfs-3g under a temporary folder (needs root).</summary>
internal sealed class NtfsVolume : IDisposable
{
    private readonly string folder;
    private readonly string image;
    private bool mounted;

    public NtfsVolume(int megabytes)
    {
        folder = Directory.CreateTempSubdirectory("rehome-ntfs-").FullName;
        image = Path.Combine(folder, "volume.img");
        MountPoint = Path.Combine(folder, "mnt");
        Directory.CreateDirectory(MountPoint);
        using (var file = File.Create(image))
        {
            file.SetLength(megabytes * 1024L * 1024L);
        }

        Processes.Run("mkntfs", "-F", "-Q", "-q", image);
        Processes.Run("ntfs-3g", image, MountPoint);
        mounted = true;
    }

    public string MountPoint { get; }

    /// <summary>Unmounts and mounts the image again, so that nothing the kernel cached about it survives.</summary>
    public void Remount()
    {
        Processes.Run("umount", MountPoint);
        mounted = false;
        Processes.Run("ntfs-3g", image, MountPoint);
        mounted = true;
    }

    public void Dispose()
    {
        if (mounted)
        {
            Processes.Run("umount", MountPoint);
            mounted = false;
        }

        Directory.Delete(folder, recursive: true);
    }
}
