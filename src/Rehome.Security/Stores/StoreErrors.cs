using Rehome.Security.Descriptors;

namespace Rehome.Security.Stores;

/// <summary>
/// The one place where platform errors become <see cref="SecurityStoreErrorKind"/>s: Linux errno values, Win32 error
/// codes, and the .NET exceptions that carry either. Every store builds its <see cref="SecurityStoreException"/>s here.
/// </summary>
public static class StoreErrors
{
    /// <summary>The kind of a Linux errno value.</summary>
    public static SecurityStoreErrorKind KindOfErrno(int errno) => errno switch
    {
        2 or 20 or 6 or 19 => SecurityStoreErrorKind.NotFound, // ENOENT, ENOTDIR, ENXIO, ENODEV
        1 or 13 or 30 => SecurityStoreErrorKind.AccessDenied, // EPERM, EACCES, EROFS (the item cannot be written)
        16 or 26 or 11 => SecurityStoreErrorKind.InUse, // EBUSY, ETXTBSY, EAGAIN (a lock held elsewhere)
        _ => SecurityStoreErrorKind.Other, // ENODATA (no descriptor attribute), EIO, EINVAL, ENAMETOOLONG, …
    };

    /// <summary>The kind of a Win32 error code.</summary>
    public static SecurityStoreErrorKind KindOfWin32(int code) => code switch
    {
        // FILE_NOT_FOUND, PATH_NOT_FOUND, INVALID_DRIVE, NOT_READY (no medium), BAD_NETPATH, BAD_NET_NAME,
        // BAD_PATHNAME, KEY_DELETED (a registry key deleted while open), DEVICE_NOT_CONNECTED
        2 or 3 or 15 or 21 or 53 or 67 or 161 or 1018 or 1167 => SecurityStoreErrorKind.NotFound,
        5 or 1314 => SecurityStoreErrorKind.AccessDenied, // ACCESS_DENIED, PRIVILEGE_NOT_HELD
        32 or 33 or 170 => SecurityStoreErrorKind.InUse, // SHARING_VIOLATION, LOCK_VIOLATION, BUSY
        _ => SecurityStoreErrorKind.Other, // INVALID_SECURITY_DESCR (1338), INVALID_OWNER (1307), …
    };

    /// <summary>A store exception for a failed libc call.</summary>
    public static SecurityStoreException FromErrno(int errno, string path, string action, string reason) =>
        new(KindOfErrno(errno), path, $"Cannot {action} {path}: {reason} (errno {errno}).");

    /// <summary>A store exception for a failed Win32 call.</summary>
    public static SecurityStoreException FromWin32(int code, string path, string action)
    {
        var kind = KindOfWin32(code);
        var reason = code switch
        {
            2 or 3 or 15 or 21 or 53 or 67 or 161 or 1167 => "it does not exist",
            1018 => "the key was deleted",
            5 => "access is denied",
            1314 => "a required privilege is not held",
            32 => "another process uses it (sharing violation)",
            33 => "another process has locked a part of it",
            170 => "it is in use",
            1338 => "the security descriptor is not valid",
            1307 => "this SID may not be the owner",
            _ => "Windows error",
        };
        return new SecurityStoreException(kind, path, $"Cannot {action} {path}: {reason} (error {code}).",
            new System.ComponentModel.Win32Exception(code));
    }

    /// <summary>
    /// A store exception for what a .NET file-system call threw (<see cref="IOException"/> and its kinds,
    /// <see cref="UnauthorizedAccessException"/>); the platform's code inside an <see cref="IOException"/> is mapped
    /// by the table of the platform it came from.
    /// </summary>
    public static SecurityStoreException FromException(Exception exception, string path, string action)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (exception is SecurityStoreException store)
        {
            return store;
        }

        var kind = exception switch
        {
            FileNotFoundException or DirectoryNotFoundException or DriveNotFoundException => SecurityStoreErrorKind.NotFound,
            UnauthorizedAccessException => SecurityStoreErrorKind.AccessDenied,
            PathTooLongException => SecurityStoreErrorKind.Other,
            IOException { HResult: var result } when (result & 0xFFFF0000) == 0x80070000 => KindOfWin32(result & 0xFFFF),
            IOException { HResult: > 0 and < 4096 } io when !OperatingSystem.IsWindows() => KindOfErrno(io.HResult),
            _ => SecurityStoreErrorKind.Other,
        };
        return new SecurityStoreException(kind, path, $"Cannot {action} {path}: {exception.Message}", exception);
    }

    /// <summary>Refuses a descriptor that is not a valid self-relative one before anything is written.</summary>
    public static void RefuseMalformed(ReadOnlySpan<byte> descriptor, string path)
    {
        try
        {
            DescriptorLayout.Parse(descriptor);
        }
        catch (SecurityFormatException exception)
        {
            throw new SecurityStoreException(SecurityStoreErrorKind.Other, path, $"Cannot write the security of {path}: {exception.Message}.", exception);
        }
    }
}
