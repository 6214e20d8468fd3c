using Rehome.Security.Reacl;
using Rehome.Security.Sids;

namespace Rehome.Security.Tests.Reacl;

public sealed class SidMapTests
{
    [Fact]
    public void Thousands_of_pairs_are_found_from_spans_and_other_sids_are_not()
    {
        var source = SecurityIdentifier.Parse("S-1-5-21-1-2-3");
        var destination = SecurityIdentifier.Parse("S-1-5-21-4-5-6");
        var map = new SidMap();
        for (uint rid = 1000; rid < 6000; rid++)
        {
            map.Add(source.WithRid(rid), destination.WithRid(rid + 1));
        }

        for (uint rid = 1000; rid < 6000; rid++)
        {
            Assert.True(map.TryGetDestination(source.WithRid(rid).Binary, out var found));
            Assert.Equal(destination.WithRid(rid + 1), found);
        }

        Assert.False(map.TryGetDestination(source.WithRid(999).Binary, out _));
        Assert.False(map.TryGetDestination(WellKnownSids.BuiltinAdministrators.Binary, out _));
        Assert.Equal(5000, map.Count);
    }

    [Fact]
    public void A_source_cannot_map_to_two_destinations_or_to_itself()
    {
        var sid = SecurityIdentifier.Parse("S-1-5-21-1-2-3-1000");
        var map = new SidMap([new(sid, WellKnownSids.BuiltinUsers)]);

        Assert.Throws<ArgumentException>(() => map.Add(sid, WellKnownSids.Everyone));
        Assert.Throws<ArgumentException>(() => map.Add(WellKnownSids.Everyone, WellKnownSids.Everyone));
        map.Add(sid, WellKnownSids.BuiltinUsers);
        Assert.Equal(1, map.Count);
    }
}
