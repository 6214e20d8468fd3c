using System.Buffers.Binary;
using Rehome.Security.Conditions;

namespace Rehome.Security.Reacl;

/// <summary>
/// Finds and replaces mapped SIDs inside the binary conditional expression of a callback ACE, on spans. SID tokens
/// and the composites around them carry lengths, which are recomputed; SIDs differ in length by multiples of four
/// bytes, so the padding that follows the tokens stays as it is. The data must have been validated
/// (<see cref="ConditionalExpression.Validate"/>).
/// </summary>
internal static class ConditionSidRewriter
{
    private const byte SidToken = (byte)ConditionTokenType.Sid;
    private const byte CompositeToken = (byte)ConditionTokenType.Composite;
    private const int TokenHeaderLength = 5;

    /// <summary>Whether some SID token names a mapped SID; <paramref name="delta"/> is how much longer the data becomes.</summary>
    public static bool FindMapped(ReadOnlySpan<byte> data, SidMap map, out int delta)
    {
        delta = 0;
        var found = false;
        Measure(data, 4, data.Length, map, ref delta, ref found);
        return found;
    }

    /// <summary>Writes the data with every mapped SID replaced; returns the bytes written.</summary>
    public static int Rewrite(ReadOnlySpan<byte> data, SidMap map, Span<byte> target)
    {
        data[..4].CopyTo(target);
        var written = 4 + RewriteTokens(data, 4, data.Length, map, target[4..], out var end);
        data[end..].CopyTo(target[written..]);
        return written + data.Length - end;
    }

    private static void Measure(ReadOnlySpan<byte> data, int position, int end, SidMap map, ref int delta, ref bool found)
    {
        while (position < end && data[position] != 0)
        {
            var size = ConditionalExpression.SizeAt(data, position);
            if (data[position] == SidToken)
            {
                var slot = map.FindSlot(data.Slice(position + TokenHeaderLength, size - TokenHeaderLength));
                if (slot >= 0)
                {
                    found = true;
                    delta += map.DestinationAt(slot).BinaryLength - (size - TokenHeaderLength);
                }
            }
            else if (data[position] == CompositeToken)
            {
                Measure(data, position + TokenHeaderLength, position + size, map, ref delta, ref found);
            }

            position += size;
        }
    }

    // Composites nest at most ConditionalExpression.MaxCompositeDepth deep, which bounds the recursion.
    private static int RewriteTokens(ReadOnlySpan<byte> data, int position, int end, SidMap map, Span<byte> target, out int stoppedAt)
    {
        var written = 0;
        while (position < end && data[position] != 0)
        {
            var size = ConditionalExpression.SizeAt(data, position);
            var code = data[position];
            var slot = code == SidToken ? map.FindSlot(data.Slice(position + TokenHeaderLength, size - TokenHeaderLength)) : -1;
            if (slot >= 0)
            {
                var sid = map.DestinationAt(slot).Binary;
                target[written] = SidToken;
                BinaryPrimitives.WriteUInt32LittleEndian(target[(written + 1)..], (uint)sid.Length);
                sid.CopyTo(target[(written + TokenHeaderLength)..]);
                written += TokenHeaderLength + sid.Length;
            }
            else if (code == CompositeToken)
            {
                target[written] = CompositeToken;
                var inner = RewriteTokens(data, position + TokenHeaderLength, position + size, map, target[(written + TokenHeaderLength)..], out _);
                BinaryPrimitives.WriteUInt32LittleEndian(target[(written + 1)..], (uint)inner);
                written += TokenHeaderLength + inner;
            }
            else
            {
                data.Slice(position, size).CopyTo(target[written..]);
                written += size;
            }

            position += size;
        }

        stoppedAt = position;
        return written;
    }
}
