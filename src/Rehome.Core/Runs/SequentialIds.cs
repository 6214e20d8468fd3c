using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Rehome.Core.Runs;

/// <summary>
/// Version 7 GUIDs that increase within one batch: the timestamp, then a random start counted up by one per
/// id. A run writes its jobs in id order, so the store appends to its primary key instead of splitting pages
/// at random (random v7 ids within the same millisecond cost SQLite a third of a run's write time).
/// </summary>
public sealed class SequentialIds
{
    private readonly byte[] _prefix = new byte[8];
    private ulong _counter;

    public SequentialIds(DateTimeOffset timestamp)
    {
        var milliseconds = (ulong)timestamp.ToUnixTimeMilliseconds();
        BinaryPrimitives.WriteUInt64BigEndian(_prefix, milliseconds << 16);
        // Version 7 in the high nibble of byte 6, then 12 random bits.
        var randomA = (ushort)RandomNumberGenerator.GetInt32(0x1000);
        _prefix[6] = (byte)(0x70 | (randomA >> 8));
        _prefix[7] = (byte)randomA;
        // Start low enough in the 62-bit counter that a batch of any size cannot wrap.
        _counter = (ulong)RandomNumberGenerator.GetInt32(int.MaxValue) << 16;
    }

    /// <summary>
    /// An id whose last byte is zero, for a run item (<see cref="RunItems"/>): its jobs' ids are it with the kind in
    /// that byte, and the ids of this batch still increase.
    /// </summary>
    public Guid NextItem()
    {
        _counter = (_counter + 0xFF) & ~0xFFUL;
        var id = Next();
        _counter += 0xFF;
        return id;
    }

    public Guid Next()
    {
        Span<byte> bytes = stackalloc byte[16];
        _prefix.CopyTo(bytes);
        // RFC 9562 variant (binary 10) in the two high bits of byte 8.
        BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], (_counter++ & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000);
        return new Guid(bytes, bigEndian: true);
    }
}
