using System.Diagnostics;
using Rehome.Security.Descriptors;
using Rehome.Security.Reacl;

namespace Rehome.Security.Bench;

/// <summary>Descriptors per second on one thread: translation, and decode + encode through the object model.</summary>
internal static class InMemoryBenchmark
{
    public static double Translate(byte[][] descriptors, SidMap map, TimeSpan duration)
    {
        var translator = new DescriptorTranslator(map, new TranslationOptions { TranslateInheritedAces = true });
        var buffer = new byte[4096];
        long changed = 0;
        return Measure(descriptors, duration, descriptor => changed += translator.Translate(descriptor, buffer) > 0 ? 1 : 0);
    }

    public static double DecodeAndEncode(byte[][] descriptors, TimeSpan duration)
    {
        var buffer = new byte[4096];
        return Measure(descriptors, duration, descriptor => SecurityDescriptor.FromBinary(descriptor).Write(buffer));
    }

    private static double Measure(byte[][] descriptors, TimeSpan duration, Action<byte[]> work)
    {
        // One pass to warm up (tiered compilation), then whole passes until the time is up.
        foreach (var descriptor in descriptors)
        {
            work(descriptor);
        }

        long done = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            foreach (var descriptor in descriptors)
            {
                work(descriptor);
            }

            done += descriptors.Length;
        }

        return done / clock.Elapsed.TotalSeconds;
    }
}
