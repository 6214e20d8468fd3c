using System.Diagnostics;
using Rehome.Directory.Tests.ActiveDirectory;

namespace Rehome.Directory.Tests.OfflineJoin;

/// <summary>
/// A scratch Samba member of a test domain: the machine that consumes offline join data with
/// <c>net offlinejoin requestodj</c>, after which <c>net ads testjoin</c> proves the join.
/// </summary>
public static class SambaMember
{
    /// <summary>Consumes an offline join file as machine <paramref name="name"/>, then tests the join.</summary>
    public static async Task<(int RequestExitCode, string RequestOutput, int TestJoinExitCode, string TestJoinOutput)> JoinAsync(
        SambaDomain domain, string name, byte[] offlineJoinFile, DirectoryInfo scratch)
    {
        var member = WriteConfiguration(domain, name, scratch);
        var file = Path.Combine(scratch.FullName, name + ".odj");
        await File.WriteAllBytesAsync(file, offlineJoinFile);
        var request = await RunNetAsync(domain, "offlinejoin", "requestodj", $"loadfile={file}", "-s", member);
        var testJoin = await RunNetAsync(domain, "ads", "testjoin", "-s", member);
        return (request.ExitCode, request.Output, testJoin.ExitCode, testJoin.Output);
    }

    /// <summary>A member configuration with its own private, lock and state folders, nothing shared with the DC.</summary>
    public static string WriteConfiguration(SambaDomain domain, string name, DirectoryInfo scratch)
    {
        var folder = scratch.CreateSubdirectory(name).FullName;
        var configuration = Path.Combine(folder, "member.conf");
        File.WriteAllText(configuration, $"""
            [global]
            	netbios name = {name}
            	workgroup = {domain.NetBiosName}
            	realm = {domain.Realm}
            	security = ads
            	private dir = {folder}
            	lock directory = {folder}
            	state directory = {folder}
            	cache directory = {folder}
            	log file = {folder}/log

            """);
        return configuration;
    }

    /// <summary>Runs the domain's <c>net</c> (inside the DC's namespace, where DNS resolves the domain).</summary>
    public static async Task<(int ExitCode, string Output)> RunNetAsync(SambaDomain domain, params string[] arguments)
    {
        var start = new ProcessStartInfo(domain.NetCommand, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(deadline.Token);
        return (process.ExitCode, await output + await errors);
    }
}
