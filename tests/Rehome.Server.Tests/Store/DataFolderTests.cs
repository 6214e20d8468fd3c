using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Store;

/// <summary>The embedded store on disk holds every secret and the key ring: only the server's account may read it.</summary>
public sealed class DataFolderTests : IDisposable
{
    private const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode WorldReadableFolder = OwnerOnlyFolder | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private readonly string _root = Path.Combine(Path.GetTempPath(), "rehome-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task The_server_creates_its_data_folder_and_database_files_for_its_own_account_only()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // Unix file modes; on Windows the folder's ACL is inherited from where it is made.
        }
        var data = Path.Combine(_root, "data");

        await using (var host = await ServerHost.StartAsync(StoreProvider.Sqlite, new() { ["Rehome:Store:DataDirectory"] = data }))
        {
            await host.Client.CreateProjectAsync();

            Assert.Equal(OwnerOnlyFolder, File.GetUnixFileMode(data));
            foreach (var file in new[] { "rehome.db", "rehome.db-wal", "rehome.db-shm" })
            {
                Assert.Equal(OwnerOnlyFile, File.GetUnixFileMode(Path.Combine(data, file)));
            }
        }
    }

    [Fact]
    public async Task A_data_folder_others_can_read_is_warned_of_once_with_the_fix_and_its_database_is_closed_to_them()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // Unix file modes; on Windows the folder's ACL is inherited from where it is made.
        }
        var data = Path.Combine(_root, "data");
        System.IO.Directory.CreateDirectory(data);
        File.SetUnixFileMode(data, WorldReadableFolder);
        var database = Path.Combine(data, "rehome.db");
        await File.WriteAllBytesAsync(database, []);
        File.SetUnixFileMode(database, OwnerOnlyFile | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        await using var host = await ServerHost.StartAsync(StoreProvider.Sqlite, new() { ["Rehome:Store:DataDirectory"] = data });

        var warning = Assert.Single(host.Logs.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains(data, StringComparison.Ordinal));
        Assert.Contains($"chmod 700 {data}", warning, StringComparison.Ordinal);
        Assert.Equal(OwnerOnlyFile, File.GetUnixFileMode(database));
    }

    public void Dispose()
    {
        if (System.IO.Directory.Exists(_root))
        {
            System.IO.Directory.Delete(_root, recursive: true);
        }
    }
}
