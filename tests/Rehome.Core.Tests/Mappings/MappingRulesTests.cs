using Rehome.Core.Mappings;

namespace Rehome.Core.Tests.Mappings;

public class MappingRulesTests
{
    [Fact]
    public void The_destination_name_defaults_to_the_source_name()
    {
        var input = MappingRules.Normalise(new MappingInput { SourceDevice = "  PC01 " });

        Assert.Equal("PC01", input.SourceDevice);
        Assert.Equal("PC01", input.DestinationName);
        Assert.Empty(MappingRules.Validate(input));
    }

    [Theory]
    [InlineData("THIS-NAME-IS-TOO-LONG", "longer than 15")]
    [InlineData("PC_01", "letters, digits and hyphens")]
    [InlineData("12345", "cannot be only digits")]
    public void Computer_names_follow_NetBIOS_rules(string name, string expected)
    {
        var violation = Assert.Single(MappingRules.Validate(new MappingInput { SourceDevice = name, DestinationName = "PC01" }));

        Assert.Equal("ComputerName", violation.Rule);
        Assert.Contains(expected, violation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Users_must_be_UPNs_or_down_level_names_and_come_in_pairs()
    {
        Assert.Empty(MappingRules.Validate(new MappingInput { SourceDevice = "PC01", PrimaryUser = "CONTOSO\\ann", DestinationUser = "ann@fabrikam.example" }));
        Assert.Contains(MappingRules.Validate(new MappingInput { SourceDevice = "PC01", PrimaryUser = "ann", DestinationUser = "ann@fabrikam.example" }),
            v => v.Rule == "UserName");
        Assert.Contains(MappingRules.Validate(new MappingInput { SourceDevice = "PC01", PrimaryUser = "CONTOSO\\ann" }), v => v.Rule == "UserPair");
    }

    [Fact]
    public void Control_characters_are_refused() =>
        Assert.Contains(MappingRules.Validate(new MappingInput { SourceDevice = "PC01", PrimaryUser = "a\u0000@b", DestinationUser = "a@b" }),
            v => v.Rule == "ControlCharacter" && v.Field == "primaryUser");

    [Fact]
    public void A_destination_OU_must_be_a_distinguished_name() =>
        Assert.Equal("DistinguishedName", Assert.Single(MappingRules.Validate(new MappingInput { SourceDevice = "PC01", DestinationOu = "Laptops" })).Rule);

    [Fact]
    public void Device_keys_ignore_case_and_surrounding_spaces() => Assert.Equal(Mapping.KeyOf("pc01 "), Mapping.KeyOf("PC01"));
}
