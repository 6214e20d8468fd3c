using System.Diagnostics;
using Rehome.Security.Descriptors;
using Rehome.Security.Reacl;

namespace Rehome.Security.Bench;

/// <summary>Descriptors per second on one thread: translation, and decode + encode through the object model.</summary>
internal static class InMemoryBenchmark
{
    public static double Translate(byte[][] descriptors, SidMap map, TimeSpan duration) =>
        Measure(descriptors, duration, new TranslateWork(new DescriptorTranslator(map, new TranslationOptions { TranslateInheritedAces = true })));

    public static double DecodeAndEncode(byte[][] descriptors, TimeSpan duration) => Measure(descriptors, duration, new RoundTripWork());

    // Generic over a struct so the loop calls the work directly, without a delegate in the measured path.
    private static double Measure<TWork>(byte[][] descriptors, TimeSpan duration, TWork work)
        where TWork : struct, IWork
    {
        // Half a second of warm-up so tiered compilation reaches its optimised code, then whole passes until the time is up.
        var buffer = new byte[4096];
        var clock = Stopwatch.StartNew();
        while (clock.ElapsedMilliseconds < 500)
        {
            foreach (var descriptor in descriptors)
            {
                work.Run(descriptor, buffer);
            }
        }

        long done = 0;
        clock.Restart();
        while (clock.Elapsed < duration)
        {
            foreach (var descriptor in descriptors)
            {
                work.Run(descriptor, buffer);
            }

            done += descriptors.Length;
        }

        return done / clock.Elapsed.TotalSeconds;
    }

    private interface IWork
    {
        int Run(byte[] descriptor, byte[] buffer);
    }

    private readonly struct TranslateWork(DescriptorTranslator translator) : IWork
    {
        public int Run(byte[] descriptor, byte[] buffer) => translator.Translate(descriptor, buffer);
    }

    private readonly struct RoundTripWork : IWork
    {
        public int Run(byte[] descriptor, byte[] buffer) => SecurityDescriptor.FromBinary(descriptor).Write(buffer);
    }
}
