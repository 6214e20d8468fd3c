using System.Diagnostics;

namespace Rehome.Agents.Bench;

/// <summary>The fleet's processes: this bench again, in a *-client mode.</summary>
public static class Children
{
    /// <summary>How to start this program again with <paramref name="arguments"/>, whether it was started as its apphost or by <c>dotnet</c>.</summary>
    public static ProcessStartInfo StartInfo(params string[] arguments)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            start.ArgumentList.Add(typeof(Children).Assembly.Location);
        }
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        return start;
    }
}
