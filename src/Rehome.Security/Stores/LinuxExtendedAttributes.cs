using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Rehome.Security.Stores;

/// <summary>
/// Reads and writes extended attributes through libc, without following symbolic links; failures are
/// <see cref="SecurityStoreException"/>s of the errno's kind.
/// </summary>
[SupportedOSPlatform("linux")]
internal static partial class LinuxExtendedAttributes
{
    private const int InputOutputError = 5;
    private const int RangeError = 34;
    private const int NoData = 61;

    public static byte[] Read(string path, string name)
    {
        // ntfs-3g answers a too-small buffer with EIO rather than ERANGE, so ask for the size first, and ask again if
        // the attribute grew in between.
        for (var attempt = 0; ; attempt++)
        {
            var size = GetAttribute(path, name, ref Unsafe.NullRef<byte>(), 0);
            if (size < 0)
            {
                throw Failure("read", path, name);
            }

            var buffer = new byte[size];
            var read = size == 0 ? 0 : GetAttribute(path, name, ref buffer[0], (nuint)buffer.Length);
            if (read >= 0)
            {
                return read == buffer.Length ? buffer : buffer[..(int)read];
            }

            var error = Marshal.GetLastPInvokeError();
            if (attempt >= 3 || error is not (RangeError or InputOutputError))
            {
                throw Failure("read", path, name);
            }
        }
    }

    public static void Write(string path, string name, ReadOnlySpan<byte> value)
    {
        if (SetAttribute(path, name, ref MemoryMarshal.GetReference(value), (nuint)value.Length, 0) != 0)
        {
            throw Failure("write", path, name);
        }
    }

    private static SecurityStoreException Failure(string action, string path, string name)
    {
        var error = Marshal.GetLastPInvokeError();
        var reason = error == NoData ? "the attribute is missing" : Marshal.GetPInvokeErrorMessage(error);
        return StoreErrors.FromErrno(error, path, $"{action} {name} of", reason);
    }

    [LibraryImport("libc", EntryPoint = "lgetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint GetAttribute(string path, string name, ref byte value, nuint size);

    [LibraryImport("libc", EntryPoint = "lsetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetAttribute(string path, string name, ref byte value, nuint size, int flags);
}
