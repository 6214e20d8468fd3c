using System.Runtime.Versioning;
using Rehome.Agent.Platform.Windows;

namespace Rehome.Agent.Tests.Windows;

[SupportedOSPlatform("windows")]
public sealed class SessionHelperTests
{
    [Theory]
    [InlineData(@"CONTOSO\ann", "ann", "CONTOSO")]
    [InlineData("ann@contoso.com", "ann@contoso.com", null)]
    [InlineData("ann", "ann", null)]
    [InlineData(@"\ann", @"\ann", null)]
    public void An_account_is_split_as_LogonUser_takes_it(string account, string user, string? domain)
    {
        Assert.Equal((user, domain), SessionHelper.SplitAccount(account));
    }

    [Fact]
    public void The_helper_command_line_quotes_what_needs_quoting()
    {
        var line = NativeSessionCalls.CommandLine(@"C:\Program Files\Rehome\rehome-agent.exe", ["--session-helper", "cache-credentials", @"CONTOSO\ann", "a \"b\"", @"trail\", @"C:\dir with space\", ""]);

        Assert.Equal(@"""C:\Program Files\Rehome\rehome-agent.exe"" --session-helper cache-credentials CONTOSO\ann ""a \""b\"""" trail\ ""C:\dir with space\\"" """"", line);
    }

    [Fact]
    public void Unknown_helper_commands_exit_with_invalid_parameter()
    {
        Assert.Equal(87, SessionHelper.Run(["format-c"]));
        Assert.Equal(87, SessionHelper.Run(["cache-credentials"]));
    }
}
