using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Hosting;

public sealed class SettingsTests
{
    public static TheoryData<string, string> BadSettings { get; } = new()
    {
        { "Rehome:Gateway:RecheckInterval", "00:00:00" },
        { "Rehome:Gateway:EnrollmentsPerMinute", "0" },
        { "Rehome:Gateway:OnlineWindow", "00:00:10" },
        { "Rehome:Runs:LeaseDuration", "00:00:01" },
        { "Rehome:Runs:MaxAttempts", "0" },
        { "Rehome:Auth:DefaultTokenLifetimeDays", "0" },
        { "Rehome:Import:MaxRows", "0" },
        { "Rehome:Import:MaxBytes", "10" },
        { "Rehome:Directories:Mode", "Elsewhere" },
        { "Rehome:Directories:RetryWindow", "00:00:00" },
        { "Rehome:Directories:Connected:ProvisioningConcurrency", "0" },
        { "Rehome:Directories:Connected:AutopilotPollInterval", "00:00:00" },
        { "Rehome:Directories:Connected:IdentityCacheLifetime", "-00:01:00" },
        { "Rehome:Readiness:MinimumFreeDiskSpaceBytes", "-1" },
        { "Rehome:Readiness:TokenExpiryWarning", "-1.00:00:00" },
        { "Rehome:Notifications:HistoryRetention", "00:10:00" },
        { "Rehome:Secrets:KeyCertificatePath", "/nowhere/keys.pfx" },
        { "Rehome:Store:DataDirectory", "" },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public async Task A_bad_setting_stops_the_server_at_start_naming_the_setting(string setting, string value)
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => ServerHost.StartAsync(StoreProvider.Sqlite, new() { [setting] = value }));

        Assert.Contains(setting, failure.Message, StringComparison.Ordinal);
    }
}
