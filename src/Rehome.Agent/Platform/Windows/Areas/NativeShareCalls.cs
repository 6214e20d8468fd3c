using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using static Rehome.Agent.Platform.Windows.Areas.AreaNativeMethods;

namespace Rehome.Agent.Platform.Windows.Areas;

/// <summary>The real share calls: marshalling only.</summary>
[SupportedOSPlatform("windows")]
internal sealed class NativeShareCalls : IShareCalls
{
    public int List(out IReadOnlyList<ShareInfo> shares)
    {
        var found = new List<ShareInfo>();
        shares = found;
        uint resume = 0;
        int status;
        do
        {
            status = NetShareEnum(null, 502, out var buffer, MaxPreferredLength, out var read, out _, ref resume);
            try
            {
                if (status is not (Success or ErrorMoreData))
                {
                    return status;
                }

                var size = Marshal.SizeOf<ShareInfo502>();
                for (var i = 0; i < read; i++)
                {
                    var share = Marshal.PtrToStructure<ShareInfo502>(buffer + (i * size));
                    found.Add(new ShareInfo(Marshal.PtrToStringUni(share.NetName) ?? "", share.Type, share.SecurityDescriptor != 0));
                }
            }
            finally
            {
                // Only an answer with shares wrote the buffer (LibraryImport does not zero an out value).
                if (status is Success or ErrorMoreData && buffer != 0)
                {
                    _ = NetApiBufferFree(buffer);
                }
            }
        }
        while (status == ErrorMoreData);

        return Success;
    }

    public int GetDescriptor(string name, out byte[]? descriptor)
    {
        descriptor = null;
        var status = NetShareGetInfo(null, name, 502, out var buffer);
        if (status != Success)
        {
            return status;
        }

        try
        {
            return CopyDescriptor(Marshal.PtrToStructure<ShareInfo502>(buffer).SecurityDescriptor, out descriptor);
        }
        finally
        {
            _ = NetApiBufferFree(buffer);
        }
    }

    public int SetDescriptor(string name, byte[] descriptor)
    {
        var pinned = GCHandle.Alloc(descriptor, GCHandleType.Pinned);
        try
        {
            return NetShareSetInfo(null, name, 1501, new ShareInfo1501 { SecurityDescriptor = pinned.AddrOfPinnedObject() }, out _);
        }
        finally
        {
            pinned.Free();
        }
    }
}
