using Rehome.Core.Policies;

namespace Rehome.Core.Tests.Policies;

public class PolicyRulesTests
{
    [Fact]
    public void The_default_policy_is_valid() => Assert.Empty(PolicyRules.Validate("Default", new PolicySettings()));

    [Fact]
    public void Explicit_mappings_need_both_sides_and_no_source_twice()
    {
        var settings = new PolicySettings
        {
            IdentityMapping = new IdentityMappingSettings
            {
                Users = [new IdentityPair("CONTOSO\\ann", "FABRIKAM\\ann"), new IdentityPair("contoso\\ANN", "FABRIKAM\\anne"), new IdentityPair("CONTOSO\\bob", "")],
            },
        };

        var rules = PolicyRules.Validate("P", settings).Select(v => (v.Field, v.Rule)).ToList();

        Assert.Equal([("settings.identityMapping.users[1]", "Duplicate"), ("settings.identityMapping.users[2]", "Required")], rules);
    }

    [Fact]
    public void Areas_must_be_absolute_Windows_paths_and_registry_keys()
    {
        var settings = new PolicySettings
        {
            Areas = new AreaSettings { FileSystemPaths = ["C:\\Data", "\\\\fs01\\share", "/home/ann"], RegistryKeys = ["HKLM\\SOFTWARE", "SOFTWARE\\Contoso"] },
        };

        var fields = PolicyRules.Validate("P", settings).Select(v => v.Field).ToList();

        Assert.Equal(["settings.areas.fileSystemPaths[2]", "settings.areas.registryKeys[1]"], fields);
    }

    [Fact]
    public void A_star_among_the_file_paths_means_every_fixed_volume_and_is_accepted_only_in_the_areas_to_walk()
    {
        var settings = new PolicySettings
        {
            Areas = new AreaSettings { FileSystemPaths = [AreaSettings.EveryFixedVolume, "C:\\Data"] },
            AreasToIgnore = new AreaSettings { FileSystemPaths = [AreaSettings.EveryFixedVolume] },
        };

        var fields = PolicyRules.Validate("P", settings).Select(v => (v.Field, v.Rule)).ToList();

        Assert.Equal([("settings.areasToIgnore.fileSystemPaths[0]", "WindowsPath")], fields);
    }

    [Theory]
    [InlineData(PolicySettings.DefaultHybridRegistrationWaitSeconds, true)]
    [InlineData(PolicyRules.MinHybridRegistrationWaitSeconds, true)]
    [InlineData(PolicyRules.MaxHybridRegistrationWaitSeconds, true)]
    [InlineData(PolicyRules.MinHybridRegistrationWaitSeconds - 1, false)]
    [InlineData(PolicyRules.MaxHybridRegistrationWaitSeconds + 1, false)]
    [InlineData(-5, false)]
    public void The_hybrid_registration_wait_is_between_a_minute_and_a_day(int seconds, bool valid)
    {
        var violations = PolicyRules.Validate("P", new PolicySettings { HybridRegistrationWaitSeconds = seconds });

        Assert.Equal(valid ? [] : [("settings.hybridRegistrationWaitSeconds", "Range")], violations.Select(v => (v.Field, v.Rule)).ToList());
    }

    [Fact]
    public void A_stored_policy_without_the_hybrid_registration_wait_reads_with_the_default_of_an_hour()
    {
        var settings = System.Text.Json.JsonSerializer.Deserialize<PolicySettings>("{}", new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web))!;

        Assert.Equal(3600, settings.HybridRegistrationWaitSeconds);
    }

    [Fact]
    public void The_forced_rejoin_period_is_bounded() =>
        Assert.Contains(PolicyRules.Validate("P", new PolicySettings { ForcedRejoin = new ForcedRejoinSettings { ForceAfter = TimeSpan.FromDays(31) } }),
            v => v.Field == "settings.forcedRejoin.forceAfter");

    [Theory]
    [InlineData(72 * 60, true)]
    [InlineData(60, true)]
    [InlineData(365 * 24 * 60, true)]
    [InlineData(59, false)]
    [InlineData(365 * 24 * 60 + 1, false)]
    [InlineData(-60, false)]
    public void The_device_offline_limit_is_between_an_hour_and_a_year(int minutes, bool valid)
    {
        var violations = PolicyRules.Validate("P", new PolicySettings { DeviceOfflineLimit = TimeSpan.FromMinutes(minutes) });

        Assert.Equal(valid ? [] : [("settings.deviceOfflineLimit", "Range")], violations.Select(v => (v.Field, v.Rule)).ToList());
    }

    [Fact]
    public void A_stored_policy_without_the_device_offline_limit_reads_with_the_default_of_three_days()
    {
        var settings = System.Text.Json.JsonSerializer.Deserialize<PolicySettings>("{}", new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web))!;

        Assert.Equal(TimeSpan.FromHours(72), settings.DeviceOfflineLimit);
    }
}
