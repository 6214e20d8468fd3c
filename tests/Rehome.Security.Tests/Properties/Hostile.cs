using System.Diagnostics;
using CsCheck;

namespace Rehome.Security.Tests.Properties;

/// <summary>
/// How the properties here run: a fixed first seed and a bounded number of cases (CI time stays small), one
/// thread, and each case under a one-second ceiling that fails with the input, as a hang detector. CsCheck prints
/// the seed of a failing (shrunk) case: set <c>CsCheck_Seed</c> to it to replay.
/// </summary>
internal static class Hostile
{
    private static readonly TimeSpan Ceiling = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Runs <paramref name="property"/> (true when the input was accepted, false when refused) over the cases, and
    /// checks that both happened often enough for the property to mean something about each.
    /// </summary>
    public static void Check<T>(Gen<T> gen, Func<T, bool> property, string seed, int cases, Func<T, string> print)
    {
        var accepted = 0;
        var refused = 0;
        gen.Sample(input =>
        {
            var clock = Stopwatch.StartNew();
            var wasAccepted = property(input);
            if (clock.Elapsed > Ceiling)
            {
                throw new TimeoutException($"One case took {clock.Elapsed.TotalMilliseconds:0} ms, over the {Ceiling.TotalSeconds:0} s ceiling: {print(input)}");
            }
            _ = wasAccepted ? Interlocked.Increment(ref accepted) : Interlocked.Increment(ref refused);
        }, seed: seed, iter: cases, threads: 1, print: print);

        Assert.True(accepted >= cases / 20 && refused >= cases / 20, $"{accepted} accepted and {refused} refused of {cases}: the generator no longer tests both");
    }

    /// <summary>Text changed the ways a careless or hostile writer would: characters replaced, inserted, cut, doubled.</summary>
    public static Gen<string> Mutated(Gen<string> valid, string alphabet) =>
        Gen.Select(valid, Gen.Int[0, int.MaxValue].Array[1, 4], Gen.Int[0, 4].Array[1, 4], (text, positions, kinds) =>
        {
            var result = text;
            for (var index = 0; index < Math.Min(positions.Length, kinds.Length); index++)
            {
                var at = result.Length == 0 ? 0 : positions[index] % result.Length;
                var c = alphabet[positions[index] % alphabet.Length];
                result = kinds[index] switch
                {
                    0 when result.Length > 0 => result[..at] + c + result[(at + 1)..],
                    1 => result.Insert(at, c.ToString()),
                    2 when result.Length > 0 => result.Remove(at, 1),
                    3 => result[..at],
                    _ => result + result[at..],
                };
            }
            return result;
        });

    /// <summary>Bytes damaged the ways storage and transport do: overwritten, cut short, extended.</summary>
    public static Gen<byte[]> Damaged(Gen<byte[]> valid) =>
        Gen.Select(valid, Gen.Int[0, int.MaxValue].Array[1, 4], Gen.Byte.Array[1, 4], Gen.Int[0, 5], (bytes, positions, values, ending) =>
        {
            var result = (byte[])bytes.Clone();
            for (var index = 0; index < Math.Min(positions.Length, values.Length) && result.Length > 0; index++)
            {
                result[positions[index] % result.Length] = values[index];
            }
            return ending switch
            {
                0 when result.Length > 0 => result[..(positions[0] % result.Length)],
                1 => [.. result, .. values],
                _ => result,
            };
        });

    public static string Hex(byte[] bytes) => Convert.ToHexString(bytes);

    public static string Quoted(string text) => "\"" + string.Concat(text.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString())) + "\"";
}
