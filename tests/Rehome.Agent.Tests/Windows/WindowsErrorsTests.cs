using Rehome.Agent.Platform.Windows;

namespace Rehome.Agent.Tests.Windows;

public sealed class WindowsErrorsTests
{
    [Theory]
    [InlineData(2692, "NotJoined")]
    [InlineData(1355, "NoSuchDomain")]
    [InlineData(5, "AccessDenied")]
    [InlineData(2691, "AlreadyJoined")]
    [InlineData(1311, "DomainControllerUnreachable")]
    [InlineData(2453, "DomainControllerUnreachable")]
    [InlineData(1326, "ComputerAccountRefused")]
    [InlineData(1787, "ComputerAccountRefused")]
    [InlineData(1115, "ShutdownUnderway")]
    [InlineData(87, "WindowsCallFailed")]
    public void Each_windows_error_maps_to_the_stable_code_the_steps_report(int code, string expected)
    {
        Assert.Equal(expected, WindowsErrors.Failure(new FakeErrors(), code, "Call").Code);
    }

    [Fact]
    public void A_failure_names_the_call_the_number_and_windows_text()
    {
        var failure = WindowsErrors.Failure(new FakeErrors(), 2692, "NetUnjoinDomain(contoso.com)");

        Assert.Equal("NetUnjoinDomain(contoso.com) failed with error 2692 (0x00000A84): The machine is not currently joined to a domain.", failure.Message);
    }

    [Fact]
    public void A_code_windows_has_no_text_for_still_shows_its_number()
    {
        Assert.Equal("Call failed with error 2999 (0x00000BB7)", WindowsErrors.Failure(new FakeErrors(), 2999, "Call").Message);
    }

    [Theory]
    [InlineData(2099, false)]
    [InlineData(2100, true)]
    [InlineData(2692, true)]
    [InlineData(2999, true)]
    [InlineData(3000, false)]
    [InlineData(5, false)]
    public void Net_api_status_codes_are_those_from_2100_to_2999(int code, bool netApi)
    {
        Assert.Equal(netApi, WindowsErrors.IsNetApiStatus(code));
    }
}
