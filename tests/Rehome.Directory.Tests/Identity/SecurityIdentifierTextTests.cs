using Rehome.Directory.Identity;

namespace Rehome.Directory.Tests.Identity;

public sealed class SecurityIdentifierTextTests
{
    private static readonly byte[] Administrators = [1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 32, 2, 0, 0];

    [Fact]
    public void A_binary_sid_is_formatted_in_the_usual_string_form()
    {
        Assert.Equal("S-1-5-32-544", SecurityIdentifierText.FromBinary(Administrators));
    }

    [Fact]
    public void A_string_sid_is_parsed_to_the_same_bytes()
    {
        Assert.Equal(Administrators, SecurityIdentifierText.ToBinary("S-1-5-32-544"));
        Assert.Equal("S-1-5-21-1004336348-1177238915-682003330-512",
            SecurityIdentifierText.FromBinary(SecurityIdentifierText.ToBinary("S-1-5-21-1004336348-1177238915-682003330-512")));
    }

    [Theory]
    [InlineData("")]
    [InlineData("S-1")]
    [InlineData("X-1-5-32")]
    [InlineData("S-1-5-minus")]
    public void Text_that_is_not_a_sid_is_rejected(string text)
    {
        Assert.ThrowsAny<FormatException>(() => SecurityIdentifierText.ToBinary(text));
    }

    [Fact]
    public void A_truncated_binary_sid_is_rejected()
    {
        Assert.Throws<FormatException>(() => SecurityIdentifierText.FromBinary(Administrators.AsSpan(0, 12)));
    }

    [Fact]
    public void An_entra_object_id_gives_the_s_1_12_1_sid_windows_uses()
    {
        // The four parts are the GUID's bytes read as little-endian 32-bit numbers.
        var sid = SecurityIdentifierText.FromEntraObjectId(Guid.Parse("12345678-9abc-def0-1234-56789abcdef0"));

        Assert.Equal("S-1-12-1-305419896-3740310204-2018915346-4041129114", sid);
    }
}
