using Rehome.Cli.Commands;
using Rehome.Cli.Rehearsal;
using Rehome.Core.Runs;
using Spectre.Console;

namespace Rehome.EndToEnd.Tests.Directories;

/// <summary>`rehome rehearse --samba`: the main job against the real Samba domains instead of simulated ones.</summary>
public sealed class SambaRehearsalTests
{
    [Fact]
    public async Task The_rehearsal_against_the_samba_domains_finishes_every_job_and_the_devices_are_in_the_destination()
    {
        var text = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, Out = new AnsiConsoleOutput(text) });
        var root = Path.Combine(Path.GetTempPath(), "rehome-samba-rehearsal", Guid.NewGuid().ToString("N"));
        try
        {
            var options = new RehearsalOptions
            {
                Devices = 6,
                Jobs = [JobKind.RejoinDomain, JobKind.MigratePermissions, JobKind.MigrateUserProfile],
                FilesPerUser = 4,
                PollSeconds = 5,
                Samba = SambaRehearsal.FromEnvironment(),
            };

            var exit = await RehearseCommand.RunAsync(new CliContext(console), options, root, "http://127.0.0.1:0", exitWhenOver: true, CancellationToken.None);

            var output = text.ToString();
            Assert.True(exit == 0, output);
            Assert.Contains("18 jobs over", output, StringComparison.Ordinal);
            Assert.DoesNotContain("Unexpected", output, StringComparison.Ordinal);
        }
        finally
        {
            if (System.IO.Directory.Exists(root))
            {
                System.IO.Directory.Delete(root, recursive: true);
            }
        }
    }
}
