using Microsoft.Data.Sqlite;

namespace Rehome.Server.Store;

/// <summary>
/// The embedded store on disk: it holds every encrypted secret and, without a key certificate, the key ring
/// that decrypts them, so on Unix only the server's account may read it. The folder is made 0700 and the
/// database 0600 before SQLite first opens it; SQLite gives its -wal and -shm files the database's mode, so no
/// process-wide umask is needed (one would also reach every other file of a process that hosts the server, such
/// as the CLI's rehearsal and the tests). On Windows the folder inherits the ACL of where it is made.
/// </summary>
public static class DataFolder
{
    private const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode GroupOrOthers =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>
    /// Makes the folder and the file of the SQLite database in <paramref name="connectionString"/> its account's
    /// alone, and returns what it could not fix for the server to warn of (a folder that existed open to others
    /// is the administrator's to close: others may rely on reaching it), or null.
    /// </summary>
    public static string? Secure(string connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString);
        if (builder.Mode == SqliteOpenMode.Memory || string.IsNullOrEmpty(builder.DataSource) || builder.DataSource == ":memory:")
        {
            return null;
        }
        var database = Path.GetFullPath(builder.DataSource);
        var folder = Path.GetDirectoryName(database)!;
        if (OperatingSystem.IsWindows())
        {
            System.IO.Directory.CreateDirectory(folder);
            return null;
        }
        string? warning = null;
        if (!System.IO.Directory.Exists(folder))
        {
            System.IO.Directory.CreateDirectory(folder, OwnerOnlyFolder);
        }
        else if ((File.GetUnixFileMode(folder) & GroupOrOthers) != 0)
        {
            warning = $"The data folder {folder} can be read by other accounts, and it holds the encrypted secrets; " +
                $"close it to them: chmod 700 {folder}";
        }
        if (!File.Exists(database))
        {
            try
            {
                using var empty = new FileStream(database, new FileStreamOptions
                {
                    Mode = FileMode.CreateNew,
                    Access = FileAccess.Write,
                    UnixCreateMode = OwnerOnlyFile,
                });
            }
            catch (IOException) when (File.Exists(database))
            {
                // Made by another process in the meantime: its mode is checked below like any other.
            }
        }
        foreach (var file in new[] { database, database + "-wal", database + "-shm" }.Where(File.Exists))
        {
            var mode = File.GetUnixFileMode(file);
            if ((mode & GroupOrOthers) != 0)
            {
                File.SetUnixFileMode(file, mode & ~GroupOrOthers);
            }
        }
        return warning;
    }
}
