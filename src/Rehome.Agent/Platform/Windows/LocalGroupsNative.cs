using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Rehome.Agent.Platform.Windows;

/// <summary>NetLocalGroupEnum: marshalling only.</summary>
[SupportedOSPlatform("windows")]
internal sealed class NativeLocalGroupCalls : ILocalGroupCalls
{
    public int EnumerateGroups(out IReadOnlyList<string> names)
    {
        var found = new List<string>();
        names = found;
        nint resume = 0;
        int status;
        do
        {
            status = NativeMethods.LocalGroupEnum(null, 0, out var buffer, NativeMethods.MaxPreferredLength, out var read, out _, ref resume);
            try
            {
                if (status is not (NativeMethods.Success or NativeMethods.ErrorMoreData))
                {
                    return status;
                }

                // LOCALGROUP_INFO_0: one pointer to the group's name.
                for (var i = 0; i < read; i++)
                {
                    found.Add(Marshal.PtrToStringUni(Marshal.ReadIntPtr(buffer, i * nint.Size)) ?? "");
                }
            }
            finally
            {
                // Only an answer with groups wrote the buffer (LibraryImport does not zero an out value).
                if (status is NativeMethods.Success or NativeMethods.ErrorMoreData && buffer != 0)
                {
                    _ = NativeMethods.NetBufferFree(buffer);
                }
            }
        }
        while (status == NativeMethods.ErrorMoreData);

        return NativeMethods.Success;
    }
}

/// <summary>netapi32's listing of local groups.</summary>
internal static partial class NativeMethods
{
    [LibraryImport("netapi32.dll", EntryPoint = "NetLocalGroupEnum", StringMarshalling = StringMarshalling.Utf16)]
    internal static partial int LocalGroupEnum(string? server, int level, out nint buffer, int preferredMaximumLength, out int entriesRead, out int totalEntries, ref nint resumeHandle);
}
