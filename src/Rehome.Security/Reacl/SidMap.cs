using Rehome.Security.Sids;

namespace Rehome.Security.Reacl;

/// <summary>
/// Source SID → destination SID. Look-ups take the binary SID as a span, so translating descriptors allocates
/// nothing per ACE.
/// </summary>
public sealed class SidMap
{
    private readonly Dictionary<SecurityIdentifier, SecurityIdentifier> pairs = [];
    private readonly Dictionary<SecurityIdentifier, SecurityIdentifier>.AlternateLookup<ReadOnlySpan<byte>> lookup;

    public SidMap()
    {
        pairs = new Dictionary<SecurityIdentifier, SecurityIdentifier>(new SidComparer());
        lookup = pairs.GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    public SidMap(IEnumerable<KeyValuePair<SecurityIdentifier, SecurityIdentifier>> pairs)
        : this()
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

        if (pairs.TryGetValue(source, out var existing) && existing != destination)
        {
            throw new ArgumentException($"{source} already maps to {existing}.", nameof(source));
        }

        pairs[source] = destination;
    }

    public bool TryGetDestination(SecurityIdentifier source, out SecurityIdentifier destination) =>
        pairs.TryGetValue(source, out destination!);

    /// <summary>Looks a binary SID up without allocating.</summary>
    public bool TryGetDestination(ReadOnlySpan<byte> source, out SecurityIdentifier destination) =>
        lookup.TryGetValue(source, out destination!);

    private sealed class SidComparer : IEqualityComparer<SecurityIdentifier>, IAlternateEqualityComparer<ReadOnlySpan<byte>, SecurityIdentifier>
    {
        public bool Equals(SecurityIdentifier? x, SecurityIdentifier? y) => x == y;

        public int GetHashCode(SecurityIdentifier obj) => SidHash.Compute(obj.Binary);

        public bool Equals(ReadOnlySpan<byte> alternate, SecurityIdentifier other) => alternate.SequenceEqual(other.Binary);

        public int GetHashCode(ReadOnlySpan<byte> alternate) => SidHash.Compute(alternate);

        public SecurityIdentifier Create(ReadOnlySpan<byte> alternate) => SecurityIdentifier.FromBinary(alternate);
    }
}
