using Rehome.Security.Sids;

namespace Rehome.Security.Reacl;

/// <summary>
/// Source SID → destination SID. Look-ups take the binary SID as a span, so translating descriptors allocates
/// nothing per ACE.
/// </summary>
public sealed class SidMap
{
    private readonly Dictionary<SecurityIdentifier, SecurityIdentifier> pairs = [];

    // An open-addressing table over the binary source SIDs, rebuilt on each Add, for look-ups straight from spans.
    private byte[][] slotSources = new byte[1][];
    private SecurityIdentifier[] slotDestinations = new SecurityIdentifier[1];
    private int slotMask;

    // Bit n is set when some source SID has n sub-authorities: most SIDs in a descriptor (BA, SY, WD…) are ruled out
    // by this check alone, without hashing.
    private int subAuthorityCounts;

    public SidMap()
    {
    }

    public SidMap(IEnumerable<KeyValuePair<SecurityIdentifier, SecurityIdentifier>> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        foreach (var (source, destination) in pairs)
        {
            Add(source, destination);
        }
    }

    public int Count => pairs.Count;

    /// <summary>The pairs, source first.</summary>
    public IReadOnlyDictionary<SecurityIdentifier, SecurityIdentifier> Pairs => pairs;

    /// <summary>Adds a pair; a source may map to one destination only, and a SID may not map to itself.</summary>
    public void Add(SecurityIdentifier source, SecurityIdentifier destination)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        if (source == destination)
        {
            throw new ArgumentException($"{source} cannot map to itself.", nameof(destination));
        }

        if (pairs.TryGetValue(source, out var existing))
        {
            if (existing != destination)
            {
                throw new ArgumentException($"{source} already maps to {existing}.", nameof(source));
            }

            return;
        }

        pairs[source] = destination;
        subAuthorityCounts |= 1 << source.SubAuthorityCount;
        if (pairs.Count * 2 > slotSources.Length)
        {
            Rebuild(slotSources.Length * 4);
        }
        else
        {
            Insert(source, destination);
        }
    }

    public bool TryGetDestination(SecurityIdentifier source, out SecurityIdentifier destination) =>
        pairs.TryGetValue(source, out destination!);

    /// <summary>Looks a binary SID up without allocating.</summary>
    public bool TryGetDestination(ReadOnlySpan<byte> source, out SecurityIdentifier destination)
    {
        var slot = FindSlot(source);
        destination = slot < 0 ? null! : slotDestinations[slot];
        return slot >= 0;
    }

    /// <summary>Where a binary source SID sits in the table, or -1; lets the translator look each SID up once.</summary>
    internal int FindSlot(ReadOnlySpan<byte> source)
    {
        if (source.Length >= 2 && (subAuthorityCounts & (1 << (source[1] & 31))) != 0)
        {
            for (var slot = SidHash.Compute(source) & slotMask; slotSources[slot] is { } candidate; slot = (slot + 1) & slotMask)
            {
                if (source.SequenceEqual(candidate))
                {
                    return slot;
                }
            }
        }

        return -1;
    }

    /// <summary>The destination SID at a slot <see cref="FindSlot"/> returned.</summary>
    internal SecurityIdentifier DestinationAt(int slot) => slotDestinations[slot];

    private void Rebuild(int size)
    {
        slotSources = new byte[size][];
        slotDestinations = new SecurityIdentifier[size];
        slotMask = size - 1;
        foreach (var (source, destination) in pairs)
        {
            Insert(source, destination);
        }
    }

    private void Insert(SecurityIdentifier source, SecurityIdentifier destination)
    {
        var slot = SidHash.Compute(source.Binary) & slotMask;
        while (slotSources[slot] is not null)
        {
            slot = (slot + 1) & slotMask;
        }

        slotSources[slot] = source.ToArray();
        slotDestinations[slot] = destination;
    }
}
