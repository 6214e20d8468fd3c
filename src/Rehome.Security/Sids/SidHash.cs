using System.Buffers.Binary;

namespace Rehome.Security.Sids;

/// <summary>A cheap hash of binary SIDs, the same for a <see cref="SecurityIdentifier"/> and its span.</summary>
internal static class SidHash
{
    public static int Compute(ReadOnlySpan<byte> sid)
    {
        // Domain SIDs differ mostly in their last sub-authorities; mixing the tail and the length is enough.
        ulong hash = (ulong)sid.Length * 0x9E3779B97F4A7C15UL;
        if (sid.Length >= 8)
        {
            hash ^= BinaryPrimitives.ReadUInt64LittleEndian(sid[^8..]);
            hash *= 0xBF58476D1CE4E5B9UL;
        }

        if (sid.Length >= 16)
        {
            hash ^= BinaryPrimitives.ReadUInt64LittleEndian(sid[^16..]);
            hash *= 0x94D049BB133111EBUL;
        }

        return (int)(hash ^ (hash >> 31));
    }
}
