using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Rehome.Security.Descriptors;
using Rehome.Security.Sids;

namespace Rehome.Security.Reacl;

/// <summary>
/// Rewrites a binary self-relative security descriptor so that mapped source SIDs become their destination SIDs,
/// as <see cref="TranslationOptions"/> says. Works on spans in two passes (plan, then write) without allocating per
/// ACE; the parts keep their order, sizes and offsets are recomputed. Idempotent: translating the result again
/// changes nothing.
/// </summary>
public sealed class DescriptorTranslator
{
    private const byte Keep = 0;
    private const byte Replace = 1;
    private const byte Drop = 2;
    private const byte KeepAndAdd = 3;
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
    // finds ACEs naming a mapped SID; only then, with every ACE known to be sound, are twins looked for.
    private int PlanAcl(ReadOnlySpan<byte> acl, int aclOffset, Span<byte> actions, Span<int> slots, out bool changed)
    {
        changed = false;
        var candidates = false;
        var position = AceCodec.AclHeaderLength;
        for (var index = 0; index < actions.Length; index++)
        {
            var size = AceCodec.MeasureNext(acl, position, index, aclOffset, out var sidOffset, out var sidLength);
            var ace = acl.Slice(position, size);
            position += size;
            var slot = sidOffset >= 0 && (options.TranslateInheritedAces || (ace[1] & (byte)AceFlags.Inherited) == 0)
                ? map.FindSlot(ace.Slice(sidOffset, sidLength))
                : -1;
            var mapped = slot >= 0;
            slots[index] = slot;
            actions[index] = mapped ? Replace : Keep;
            candidates |= mapped;
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

            var destination = map.DestinationAt(slots[index]);
            var twinExists = ContainsTwin(acl, ace, sidOffset, sidLength, destination);
            var action = options.Mode switch
            {
                TranslationMode.Replace => twinExists ? Drop : Replace,
                TranslationMode.Add => twinExists ? Keep : KeepAndAdd,
                _ => Drop,
            };
            actions[index] = action;
            changed |= action != Keep;
            length += action switch
            {
                Replace => destination.BinaryLength - sidLength,
                Drop => -ace.Length,
                KeepAndAdd => ace.Length + destination.BinaryLength - sidLength,
                _ => 0,
            };
        }

        if (length > ushort.MaxValue)
        {
            throw new InvalidOperationException($"The translated ACL would be {length} bytes, over the 65535-byte limit.");
        }

        return length;
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
            var action = actions[index];
            if (action is Keep or KeepAndAdd)
            {
                ace.CopyTo(target[written..]);
                written += ace.Length;
                count++;
            }

            if (action is Replace or KeepAndAdd)
            {
                written += WriteWithSid(ace, sidOffset, sidLength, map.DestinationAt(slots[index]).Binary, target[written..]);
                count++;
            }
        }

        BinaryPrimitives.WriteUInt16LittleEndian(target[4..], (ushort)count);
        return written;
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
