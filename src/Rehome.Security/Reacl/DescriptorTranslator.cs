using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Rehome.Security.Conditions;
using Rehome.Security.Descriptors;
using Rehome.Security.Sids;

namespace Rehome.Security.Reacl;

/// <summary>
/// Rewrites a binary self-relative security descriptor so that mapped source SIDs become their destination SIDs,
/// as <see cref="TranslationOptions"/> says, both as ACE trustees and as SID literals in the conditional expressions
/// of callback ACEs. Works on spans in two passes (plan, then write) without allocating per ACE; the parts keep their
/// order, sizes and offsets are recomputed. Idempotent: translating the result again changes nothing.
/// </summary>
public sealed class DescriptorTranslator
{
    private const byte Keep = 0;
    private const byte Replace = 1;
    private const byte Drop = 2;
    private const byte KeepAndAdd = 3;

    // Set beside the action when a callback ACE's condition names a mapped SID.
    private const byte ConditionMapped = 0x80;
    private const int StackActionLimit = 256;

    private readonly SidMap map;
    private readonly TranslationOptions options;

    public DescriptorTranslator(SidMap map, TranslationOptions options)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(options);
        this.map = map;
        this.options = options;
    }

    public TranslationOptions Options => options;

    /// <summary>The translated descriptor, or null when nothing changes.</summary>
    public byte[]? Translate(ReadOnlySpan<byte> descriptor)
    {
        var length = MeasureTranslated(descriptor);
        if (length < 0)
        {
            return null;
        }

        var result = new byte[length];
        Translate(descriptor, result);
        return result;
    }

    /// <summary>The length of the translated descriptor, or -1 when nothing changes.</summary>
    public int MeasureTranslated(ReadOnlySpan<byte> descriptor) => Run(descriptor, Span<byte>.Empty, measureOnly: true);

    /// <summary>
    /// Writes the translated descriptor into <paramref name="destination"/> and returns its length, or returns -1
    /// (writing nothing) when nothing changes.
    /// </summary>
    public int Translate(ReadOnlySpan<byte> descriptor, Span<byte> destination) => Run(descriptor, destination, measureOnly: false);

    [SkipLocalsInit]
    private int Run(ReadOnlySpan<byte> source, Span<byte> destination, bool measureOnly)
    {
        // ACEs of the ACLs planned below are validated as they are planned, so the layout only checks ACL headers.
        var layout = DescriptorLayout.Parse(source, validateAces: false);
        var replaceOwnerAndGroup = options.Mode != TranslationMode.Add;
        SecurityIdentifier? owner = null;
        SecurityIdentifier? group = null;
        if (replaceOwnerAndGroup && layout.OwnerOffset != 0)
        {
            map.TryGetDestination(source.Slice(layout.OwnerOffset, layout.OwnerLength), out owner);
        }

        if (replaceOwnerAndGroup && layout.GroupOffset != 0)
        {
            map.TryGetDestination(source.Slice(layout.GroupOffset, layout.GroupLength), out group);
        }

        var dacl = layout.DaclOffset == 0 ? ReadOnlySpan<byte>.Empty : source.Slice(layout.DaclOffset, layout.DaclLength);
        var sacl = layout.SaclOffset == 0 || !options.IncludeSacl ? ReadOnlySpan<byte>.Empty : source.Slice(layout.SaclOffset, layout.SaclLength);
        var daclCount = dacl.IsEmpty ? 0 : BinaryPrimitives.ReadUInt16LittleEndian(dacl[4..]);
        var saclCount = sacl.IsEmpty ? 0 : BinaryPrimitives.ReadUInt16LittleEndian(sacl[4..]);
        var total = daclCount + saclCount;
        Span<byte> actions = total <= StackActionLimit ? stackalloc byte[StackActionLimit] : new byte[total];
        Span<int> slots = total <= StackActionLimit ? stackalloc int[StackActionLimit] : new int[total];
        var daclActions = actions[..daclCount];
        var saclActions = actions.Slice(daclCount, saclCount);
        var daclSlots = slots[..daclCount];
        var saclSlots = slots.Slice(daclCount, saclCount);
        var daclChanged = false;
        var saclChanged = false;
        var daclLength = dacl.IsEmpty ? 0 : PlanAcl(dacl, layout.DaclOffset, daclActions, daclSlots, out daclChanged);
        var saclLength = sacl.IsEmpty ? 0 : PlanAcl(sacl, layout.SaclOffset, saclActions, saclSlots, out saclChanged);
        if (!options.IncludeSacl && layout.SaclOffset != 0)
        {
            AceCodec.MeasureAcl(source[layout.SaclOffset..], layout.SaclOffset, out _); // copied as is, but still checked
        }
        if (owner is null && group is null && !daclChanged && !saclChanged)
        {
            return -1;
        }

        var newSaclLength = options.IncludeSacl ? saclLength : layout.SaclLength;
        var length = DescriptorLayout.HeaderLength + (owner?.BinaryLength ?? layout.OwnerLength) + (group?.BinaryLength ?? layout.GroupLength)
            + newSaclLength + (dacl.IsEmpty ? 0 : daclLength);
        if (measureOnly)
        {
            return length;
        }

        if (destination.Length < length)
        {
            throw new ArgumentException($"The translated descriptor needs {length} bytes, the destination has {destination.Length}.", nameof(destination));
        }

        source[..DescriptorLayout.HeaderLength].CopyTo(destination);
        destination[4..DescriptorLayout.HeaderLength].Clear();
        var position = DescriptorLayout.HeaderLength;

        // Parts keep the order they had, so a descriptor written by a given tool keeps that tool's layout.
        Span<int> offsets = [layout.OwnerOffset, layout.GroupOffset, layout.SaclOffset, layout.DaclOffset];
        for (var step = 0; step < offsets.Length; step++)
        {
            // Emit the part with the lowest remaining offset next (four parts: a selection pass is cheapest).
            var part = -1;
            for (var candidate = 0; candidate < offsets.Length; candidate++)
            {
                if (offsets[candidate] != 0 && (part < 0 || offsets[candidate] < offsets[part]))
                {
                    part = candidate;
                }
            }

            if (part < 0)
            {
                break;
            }

            offsets[part] = 0;

            BinaryPrimitives.WriteUInt32LittleEndian(destination[(4 + (4 * part))..], (uint)position);
            var target = destination[position..];
            position += part switch
            {
                0 => CopySid(owner, source.Slice(layout.OwnerOffset, layout.OwnerLength), target),
                1 => CopySid(group, source.Slice(layout.GroupOffset, layout.GroupLength), target),
                2 when options.IncludeSacl => WriteAcl(sacl, saclActions, saclSlots, saclLength, target),
                2 => CopyBytes(source.Slice(layout.SaclOffset, layout.SaclLength), target),
                _ => WriteAcl(dacl, daclActions, daclSlots, daclLength, target),
            };
        }

        return position;
    }

    private static int CopySid(SecurityIdentifier? replacement, ReadOnlySpan<byte> original, Span<byte> target) =>
        CopyBytes(replacement is null ? original : replacement.Binary, target);

    private static int CopyBytes(ReadOnlySpan<byte> bytes, Span<byte> target)
    {
        bytes.CopyTo(target);
        return bytes.Length;
    }

    // Validates each ACE and decides what happens to it; returns the new ACL length. The first pass validates and
    // finds ACEs naming a mapped SID, as trustee or inside a callback ACE's condition; only then, with every ACE known
    // to be sound, are twins looked for.
    private int PlanAcl(ReadOnlySpan<byte> acl, int aclOffset, Span<byte> actions, Span<int> slots, out bool changed)
    {
        changed = false;
        var candidates = false;
        var position = AceCodec.AclHeaderLength;
        for (var index = 0; index < actions.Length; index++)
        {
            var size = AceCodec.MeasureNext(acl, position, index, aclOffset, out var sidOffset, out var sidLength);
            var ace = acl.Slice(position, size);
            var eligible = sidOffset >= 0 && (options.TranslateInheritedAces || (ace[1] & (byte)AceFlags.Inherited) == 0);
            var slot = eligible ? map.FindSlot(ace.Slice(sidOffset, sidLength)) : -1;
            var conditionMapped = eligible && AceTypes.IsCallback((AceType)ace[0])
                && FindMappedInCondition(ace, sidOffset + sidLength, aclOffset + position + sidOffset + sidLength, out _);
            position += size;
            slots[index] = slot;
            actions[index] = (byte)((slot >= 0 || conditionMapped ? Replace : Keep) | (conditionMapped ? ConditionMapped : 0));
            candidates |= slot >= 0 || conditionMapped;
        }

        var length = position;
        if (!candidates)
        {
            return length;
        }

        position = AceCodec.AclHeaderLength;
        for (var index = 0; index < actions.Length; index++)
        {
            var ace = NextAce(acl, ref position, out var sidOffset, out var sidLength);
            if (actions[index] == Keep)
            {
                continue;
            }

            var conditionMapped = (actions[index] & ConditionMapped) != 0;
            var destination = slots[index] >= 0 ? map.DestinationAt(slots[index]) : null;
            var conditionDelta = 0;
            if (conditionMapped)
            {
                FindMappedInCondition(ace, sidOffset + sidLength, 0, out conditionDelta);
            }

            var translatedLength = ace.Length + (destination is null ? 0 : destination.BinaryLength - sidLength) + conditionDelta;
            var twinExists = conditionMapped
                ? ContainsTranslated(acl, ace, sidOffset, sidLength, destination, translatedLength)
                : ContainsTwin(acl, ace, sidOffset, sidLength, destination!);
            var action = options.Mode switch
            {
                TranslationMode.Replace => twinExists ? Drop : Replace,
                TranslationMode.Add => twinExists ? Keep : KeepAndAdd,
                _ => Drop,
            };
            actions[index] = (byte)(action | (conditionMapped ? ConditionMapped : 0));
            changed |= action != Keep;
            length += action switch
            {
                Replace => translatedLength - ace.Length,
                Drop => -ace.Length,
                KeepAndAdd => translatedLength,
                _ => 0,
            };
        }

        if (length > ushort.MaxValue)
        {
            throw new InvalidOperationException($"The translated ACL would be {length} bytes, over the 65535-byte limit.");
        }

        return length;
    }

    // Whether the callback ACE's application data (from dataOffset) is a conditional expression naming a mapped SID;
    // validates the expression, reporting problems at byte offsets counted from errorOffset.
    private bool FindMappedInCondition(ReadOnlySpan<byte> ace, int dataOffset, int errorOffset, out int delta)
    {
        delta = 0;
        var data = ace[dataOffset..];
        if (!ConditionalExpression.IsConditional(data))
        {
            return false;
        }

        ConditionalExpression.Validate(data, errorOffset);
        return ConditionSidRewriter.FindMapped(data, map, out delta);
    }

    private int WriteAcl(ReadOnlySpan<byte> acl, ReadOnlySpan<byte> actions, ReadOnlySpan<int> slots, int length, Span<byte> target)
    {
        acl[..AceCodec.AclHeaderLength].CopyTo(target);
        BinaryPrimitives.WriteUInt16LittleEndian(target[2..], (ushort)length);
        var position = AceCodec.AclHeaderLength;
        var written = AceCodec.AclHeaderLength;
        var count = 0;
        for (var index = 0; index < actions.Length; index++)
        {
            var ace = NextAce(acl, ref position, out var sidOffset, out var sidLength);
            var action = actions[index] & ~ConditionMapped;
            if (action is Keep or KeepAndAdd)
            {
                ace.CopyTo(target[written..]);
                written += ace.Length;
                count++;
            }

            if (action is Replace or KeepAndAdd)
            {
                var destination = slots[index] >= 0 ? map.DestinationAt(slots[index]).Binary : ace.Slice(sidOffset, sidLength);
                written += (actions[index] & ConditionMapped) != 0
                    ? WriteTranslated(ace, sidOffset, sidLength, destination, target[written..])
                    : WriteWithSid(ace, sidOffset, sidLength, destination, target[written..]);
                count++;
            }
        }

        BinaryPrimitives.WriteUInt16LittleEndian(target[4..], (ushort)count);
        return written;
    }

    // A callback ACE with its trustee and the mapped SIDs of its condition replaced.
    private int WriteTranslated(ReadOnlySpan<byte> ace, int sidOffset, int sidLength, ReadOnlySpan<byte> sid, Span<byte> target)
    {
        ace[..sidOffset].CopyTo(target);
        sid.CopyTo(target[sidOffset..]);
        var length = sidOffset + sid.Length + ConditionSidRewriter.Rewrite(ace[(sidOffset + sidLength)..], map, target[(sidOffset + sid.Length)..]);
        BinaryPrimitives.WriteUInt16LittleEndian(target[2..], (ushort)length);
        return length;
    }

    // Whether the ACL already holds the translated form of a callback ACE whose condition names mapped SIDs.
    private bool ContainsTranslated(ReadOnlySpan<byte> acl, ReadOnlySpan<byte> ace, int sidOffset, int sidLength, SecurityIdentifier? destination, int translatedLength)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(translatedLength);
        try
        {
            var translated = buffer.AsSpan(0, WriteTranslated(ace, sidOffset, sidLength, destination is null ? ace.Slice(sidOffset, sidLength) : destination.Binary, buffer));
            var count = BinaryPrimitives.ReadUInt16LittleEndian(acl[4..]);
            var position = AceCodec.AclHeaderLength;
            for (var index = 0; index < count; index++)
            {
                int size = BinaryPrimitives.ReadUInt16LittleEndian(acl[(position + 2)..]);
                if (acl.Slice(position, size).SequenceEqual(translated))
                {
                    return true;
                }

                position += size;
            }

            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static int WriteWithSid(ReadOnlySpan<byte> ace, int sidOffset, int sidLength, ReadOnlySpan<byte> sid, Span<byte> target)
    {
        var length = ace.Length - sidLength + sid.Length;
        ace[..sidOffset].CopyTo(target);
        BinaryPrimitives.WriteUInt16LittleEndian(target[2..], (ushort)length);
        sid.CopyTo(target[sidOffset..]);
        ace[(sidOffset + sidLength)..].CopyTo(target[(sidOffset + sid.Length)..]);
        return length;
    }

    // Whether the ACL already holds this ACE for the destination SID (same type, flags, mask, GUIDs and data).
    private static bool ContainsTwin(ReadOnlySpan<byte> acl, ReadOnlySpan<byte> ace, int sidOffset, int sidLength, SecurityIdentifier destination)
    {
        var count = BinaryPrimitives.ReadUInt16LittleEndian(acl[4..]);
        var twinLength = ace.Length - sidLength + destination.BinaryLength;
        var position = AceCodec.AclHeaderLength;
        for (var index = 0; index < count; index++)
        {
            // Type, flags and size rule out almost every ACE before anything else is compared.
            int size = BinaryPrimitives.ReadUInt16LittleEndian(acl[(position + 2)..]);
            if (size == twinLength && acl[position] == ace[0] && acl[position + 1] == ace[1])
            {
                var other = acl.Slice(position, size);
                if (other.Slice(sidOffset, destination.BinaryLength).SequenceEqual(destination.Binary)
                    && other[4..sidOffset].SequenceEqual(ace[4..sidOffset])
                    && other[(sidOffset + destination.BinaryLength)..].SequenceEqual(ace[(sidOffset + sidLength)..]))
                {
                    return true;
                }
            }

            position += size;
        }

        return false;
    }

    // The ACE at position (already validated by DescriptorLayout.Parse) and where its SID is; -1 for raw ACEs.
    private static ReadOnlySpan<byte> NextAce(ReadOnlySpan<byte> acl, ref int position, out int sidOffset, out int sidLength)
    {
        int size = BinaryPrimitives.ReadUInt16LittleEndian(acl[(position + 2)..]);
        var ace = acl.Slice(position, size);
        position += size;
        switch (AceTypes.LayoutOf((AceType)ace[0]))
        {
            case AceLayout.Basic:
                sidOffset = 8;
                break;
            case AceLayout.Object:
                var objectFlags = ace[8];
                sidOffset = 12 + ((objectFlags & 1) != 0 ? 16 : 0) + ((objectFlags & 2) != 0 ? 16 : 0);
                break;
            default:
                sidOffset = -1;
                sidLength = 0;
                return ace;
        }

        sidLength = 8 + (4 * ace[sidOffset + 1]);
        return ace;
    }
}
