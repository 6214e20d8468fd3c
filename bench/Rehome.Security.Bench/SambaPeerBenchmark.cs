using System.Diagnostics;
using System.Globalization;
using Rehome.Security.Reacl;

namespace Rehome.Security.Bench;

/// <summary>
/// The peer: Samba's Python bindings (python3-samba) on the same descriptors, timed inside Python so process start
/// and the hand-over do not count. Parse + re-serialise, and the same translation (owner, group, DACL trustees).
/// </summary>
internal static class SambaPeerBenchmark
{
    private const string Script = """
        import sys, time
        from samba.ndr import ndr_unpack, ndr_pack
        from samba.dcerpc import security
        seconds = float(sys.argv[1])
        lines = sys.stdin.read().split("\n")
        mapping = {}
        descriptors = []
        for line in lines:
            if line.startswith("map "):
                _, source, destination = line.split(" ")
                mapping[source] = security.dom_sid(destination)
            elif line:
                descriptors.append(bytes.fromhex(line))
        def measure(work):
            for blob in descriptors:
                work(blob)
            done = 0
            start = time.perf_counter()
            while time.perf_counter() - start < seconds:
                for blob in descriptors:
                    work(blob)
                done += len(descriptors)
            return done / (time.perf_counter() - start)
        def roundtrip(blob):
            ndr_pack(ndr_unpack(security.descriptor, blob))
        def translate(blob):
            descriptor = ndr_unpack(security.descriptor, blob)
            owner = mapping.get(str(descriptor.owner_sid))
            if owner is not None:
                descriptor.owner_sid = owner
            group = mapping.get(str(descriptor.group_sid))
            if group is not None:
                descriptor.group_sid = group
            aces = descriptor.dacl.aces
            for ace in aces:
                destination = mapping.get(str(ace.trustee))
                if destination is not None:
                    ace.trustee = destination
            descriptor.dacl.aces = aces
            ndr_pack(descriptor)
        print(measure(roundtrip), measure(translate))
        """;

    public static (double RoundTrip, double Translate) Measure(byte[][] descriptors, SidMap map, TimeSpan duration)
    {
        var input = string.Join('\n', map.Pairs.Select(pair => $"map {pair.Key} {pair.Value}").Concat(descriptors.Select(Convert.ToHexString)));
        var start = new ProcessStartInfo("/usr/bin/python3", ["-c", Script, duration.TotalSeconds.ToString(CultureInfo.InvariantCulture)])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("python3 did not start");
        var reading = process.StandardOutput.ReadToEndAsync();
        process.StandardInput.Write(input);
        process.StandardInput.Close();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"The python3-samba peer failed ({process.ExitCode}); is python3-samba installed?");
        }

        var figures = reading.Result.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return (double.Parse(figures[0], CultureInfo.InvariantCulture), double.Parse(figures[1], CultureInfo.InvariantCulture));
    }
}
