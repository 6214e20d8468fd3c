using System.Globalization;
using Rehome.Security.Bench;

// Usage: Rehome.Security.Bench [--seconds N] [--ntfs-items N]   (--ntfs-items 0 skips the NTFS image; it needs root)
var seconds = 3.0;
var ntfsItems = 10000;
for (var index = 0; index + 1 < args.Length; index += 2)
{
    switch (args[index])
    {
        case "--seconds":
            seconds = double.Parse(args[index + 1], CultureInfo.InvariantCulture);
            break;
        case "--ntfs-items":
            ntfsItems = int.Parse(args[index + 1], CultureInfo.InvariantCulture);
            break;
        default:
            Console.Error.WriteLine($"unknown option {args[index]}");
            return 2;
    }
}

var duration = TimeSpan.FromSeconds(seconds);
var descriptors = Workload.Descriptors(3000);
var map = Workload.Map();
Console.WriteLine($"workload: {descriptors.Length} distinct descriptors, {descriptors.Average(d => d.Length):F0} bytes and 4-5 ACEs on average; SID map of {map.Count} pairs; {seconds} s per measurement; one thread");

var translate = InMemoryBenchmark.Translate(descriptors, map, duration);
var roundTrip = InMemoryBenchmark.DecodeAndEncode(descriptors, duration);
var (peerRoundTrip, peerTranslate) = SambaPeerBenchmark.Measure(descriptors, map, duration);
Console.WriteLine(FormattableString.Invariant($"Rehome translate (spans):            {translate,14:N0} descriptors/s"));
Console.WriteLine(FormattableString.Invariant($"python3-samba translate:             {peerTranslate,14:N0} descriptors/s   ratio {translate / peerTranslate:F1}x"));
Console.WriteLine(FormattableString.Invariant($"Rehome decode + encode (objects):    {roundTrip,14:N0} descriptors/s"));
Console.WriteLine(FormattableString.Invariant($"python3-samba ndr_unpack + ndr_pack: {peerRoundTrip,14:N0} descriptors/s   ratio {roundTrip / peerRoundTrip:F1}x"));

if (ntfsItems > 0)
{
    var (walk, revert, items) = NtfsBenchmark.Measure(ntfsItems, map);
    Console.WriteLine(FormattableString.Invariant($"NTFS image via ntfs-3g, walk:        {walk,14:N0} items/s ({items} items, replace mode)"));
    Console.WriteLine(FormattableString.Invariant($"NTFS image via ntfs-3g, revert:      {revert,14:N0} items/s"));
}

return 0;
