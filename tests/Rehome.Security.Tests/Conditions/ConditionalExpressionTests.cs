using Rehome.Security.Conditions;
using Rehome.Security.Descriptors;
using Rehome.Security.Sddl;
using Rehome.Security.Sids;
using Rehome.Security.Tests.Support;

namespace Rehome.Security.Tests.Conditions;

public sealed class ConditionalExpressionTests
{
    private static readonly SecurityIdentifier Domain = SecurityIdentifier.Parse("S-1-5-21-1-2-3");

    // Hand-encoded from MS-DTYP 2.4.4.17: "artx", postfix tokens (attribute 0xF8–0xFB, string 0x10, octets 0x18,
    // integer 0x01–0x04 as QWORD + sign + base, composite 0x50, SID 0x51, operators 0x80–0xA2), zero padding to 4.
    [Theory]
    [InlineData("(@User.Title == \"PM\")",
        "61727478 f9 0a000000 5400690074006c006500 10 04000000 50004d00 80 000000")]
    [InlineData("(Member_of {SID(BA)})",
        "61727478 50 15000000 51 10000000 01020000000000052000000020020000 89 00")]
    [InlineData("(@Device.Level >= +017)",
        "61727478 fb 0a000000 4c00650076006500 6c00 04 0f00000000000000 01 01 85 00")]
    [InlineData("(@Resource.Secrecy < -0x10)",
        "61727478 fa 0e000000 53006500630072006500630079 00 04 f0ffffffffffffff 02 03 82 00")]
    [InlineData("(!(Exists Clearance))",
        "61727478 f8 12000000 43006c0065006100720061006e0063006500 87 a2 000000")]
    [InlineData("((@User.Tags Contains #01ff) || (Not_Member_of_Any SID(SY)))",
        "61727478 f9 08000000 5400610067007300 18 02000000 01ff 86 51 0c000000 010100000000000512000000 92 a1")]
    public void Text_compiles_to_the_bytes_the_specification_gives_and_prints_back(string text, string hex)
    {
        var expression = ConditionalExpression.Parse(text);

        Assert.Equal(Hex.Bytes(hex), expression.ToBinary());
        Assert.Equal(text, ConditionalExpression.FromBinary(Hex.Bytes(hex)).ToSddl());
    }

    // Examples of MS-DTYP 2.5.1.1 and the Windows SDDL documentation, as written there and as printed back with every
    // operation in its own parentheses.
    [Theory]
    [InlineData("(@User.Title == \"PM\" && Member_of {SID(BA)})", "((@User.Title == \"PM\") && (Member_of {SID(BA)}))")]
    [InlineData("(@User.Title == \"PM\" && (@User.Division == \"Finance\" || @User.Division == \" Sales\"))",
        "((@User.Title == \"PM\") && ((@User.Division == \"Finance\") || (@User.Division == \" Sales\")))")]
    [InlineData("(@User.Project Any_of @Resource.Project)", "(@User.Project Any_of @Resource.Project)")]
    [InlineData("(OctetStringType==#1#2#3##)", "(OctetStringType == #01020300)")]
    [InlineData("(Member_of {SID(S-1-5-32-544), SID(BU)})", "(Member_of {SID(BA), SID(BU)})")]
    [InlineData("(@USER.Title == \"PM\" && member_of{SID(DA)})", "((@User.Title == \"PM\") && (Member_of {SID(DA)}))")]
    [InlineData("(@User.a == 1 || @User.b == 2 && @User.c == 3)", "((@User.a == 1) || ((@User.b == 2) && (@User.c == 3)))")]
    [InlineData("(!(@User.x == 1) && Exists @User.y)", "((!(@User.x == 1)) && (Exists @User.y))")]
    [InlineData("(Device_Member_of {SID(BA), SID(S-1-5-21-1-2-3-1105)})", "(Device_Member_of {SID(BA), SID(S-1-5-21-1-2-3-1105)})")]
    [InlineData("(@User.Tags Not_Any_of {1, 0x2, 03, -4, +5})", "(@User.Tags Not_Any_of {1, 0x2, 03, -4, +5})")]
    [InlineData("(@User.Badge == #123)", "(@User.Badge == #0123)")]
    [InlineData("(Not_Exists @Device.Managed || !@Device.Compliant)", "((Not_Exists @Device.Managed) || (!@Device.Compliant))")]
    [InlineData("(@User.clearance)", "(@User.clearance)")]
    [InlineData("(@User.x == {})", "(@User.x == {})")]
    public void Documented_examples_print_in_canonical_form_and_compile_to_the_same_bytes(string written, string printed)
    {
        var expression = ConditionalExpression.Parse(written, Domain);

        Assert.Equal(printed, expression.ToSddl(Domain));
        Assert.Equal(expression.ToBinary(), ConditionalExpression.Parse(printed, Domain).ToBinary());
    }

    [Fact]
    public void Generated_expressions_round_trip_between_binary_and_text()
    {
        var generator = new DescriptorGenerator(seed: 11);
        var conditions = new ConditionGenerator(new Random(12), generator.NextSid);
        for (var index = 0; index < 3000; index++)
        {
            var binary = conditions.NextExpression().ToBinary();

            var text = ConditionalExpression.FromBinary(binary).ToSddl(Domain);
            var compiled = ConditionalExpression.Parse(text, Domain);

            Assert.True(binary.AsSpan().SequenceEqual(compiled.ToBinary()), text + "\n" + Convert.ToHexString(binary) + "\n" + Convert.ToHexString(compiled.ToBinary()));
            Assert.Equal(text, compiled.ToSddl(Domain));
            Assert.Equal(0, binary.Length % 4);
        }
    }

    [Fact]
    public void Short_integer_literals_keep_their_width_in_binary_and_print_as_their_value()
    {
        var binary = Hex.Bytes("61727478 f8 02000000 7800 01 fbffffffffffffff 02 02 80 00");

        var expression = ConditionalExpression.FromBinary(binary);

        Assert.Equal(ConditionTokenType.Int8, expression.Tokens[1].Type);
        Assert.Equal(-5, expression.Tokens[1].Integer);
        Assert.Equal(binary, ConditionalExpression.FromTokens(expression.Tokens).ToBinary());
        Assert.Equal("(x == -5)", expression.ToSddl());
    }

    [Theory]
    [InlineData("617274ff", 0)]
    [InlineData("61727478", 4)]
    [InlineData("61727478 80 000000", 4)]
    [InlineData("61727478 77 000000", 4)]
    [InlineData("61727478 f9 ffffff7f", 5)]
    [InlineData("61727478 f9 01000000 41", 5)]
    [InlineData("61727478 01 8000000000000000 0302 87", 5)]
    [InlineData("61727478 04 0000000000000000 0402 87", 13)]
    [InlineData("61727478 04 0000000000000000 0104 87", 14)]
    [InlineData("61727478 51 08000000 0102000000000005", 9)]
    [InlineData("61727478 10 00000000 10 00000000 00", 14)]
    [InlineData("61727478 10 00000000 00 01 0000", 10)]
    [InlineData("61727478 50 05000000 f9 00000000 89", 9)]
    [InlineData("61727478 50 01000000 80 89 0000", 9)]
    [InlineData("61727478 04 0000000000", 4)]
    public void Malformed_binary_is_refused_with_its_offset(string hex, int offset)
    {
        var error = Assert.Throws<SecurityFormatException>(() => ConditionalExpression.FromBinary(Hex.Bytes(hex), 0));

        Assert.Equal(offset, error.Offset);
    }

    [Fact]
    public void Expressions_nested_deeper_than_the_limit_are_refused_in_both_forms()
    {
        var binary = Hex.Bytes("61727478 10 00000000" + string.Concat(Enumerable.Repeat("a2", ConditionalExpression.MaxDepth + 1)));
        var text = new string('(', ConditionalExpression.MaxDepth + 2) + "1" + new string(')', ConditionalExpression.MaxDepth + 2);

        Assert.Equal(9 + ConditionalExpression.MaxDepth, Assert.Throws<SecurityFormatException>(() => ConditionalExpression.FromBinary(binary)).Offset);
        Assert.NotNull(Assert.Throws<SecurityFormatException>(() => ConditionalExpression.Parse(text)).Position);
        Assert.NotNull(Assert.Throws<SecurityFormatException>(() => ConditionalExpression.Parse("(" + string.Join(" && ", Enumerable.Repeat("x", 300)) + ")")).Position);
    }

    [Theory]
    [InlineData("@User.x == 1", 0)]
    [InlineData("(@User.x == )", 12)]
    [InlineData("(@User.x == \"a\"", 15)]
    [InlineData("(@Foo.x == 1)", 1)]
    [InlineData("(@User.x == 1 &&)", 16)]
    [InlineData("(Member_of {SID(ZZ)})", 16)]
    [InlineData("(Member_of {SID(DA)})", 16)]
    [InlineData("(@User.x == 99999999999999999999)", 12)]
    [InlineData("(@User.x == 9223372036854775808)", 12)]
    [InlineData("(@User.x == #12G)", 15)]
    [InlineData("(@User.x == {1, 2)", 17)]
    [InlineData("(@User.x == 1) junk", 15)]
    [InlineData("(Exists)", 7)]
    [InlineData("(@User.x == 08)", 13)]
    [InlineData("(@User.x == {@User.y})", 13)]
    [InlineData("(@User. == 1)", 1)]
    [InlineData("(@User.x%12 == 1)", 8)]
    [InlineData("(Member_of == 1)", 11)]
    public void Malformed_text_is_refused_with_its_position(string text, int position)
    {
        var error = Assert.Throws<SecurityFormatException>(() => ConditionalExpression.Parse(text));

        Assert.Equal(position, error.Position);
    }

    [Theory]
    [InlineData("D:(XA;;FA;;;WD;(@User.Title == \"PM\" && Member_of {SID(BA)}))", "D:(XA;;FA;;;WD;((@User.Title == \"PM\") && (Member_of {SID(BA)})))")]
    [InlineData("D:(XD;OICI;FA;;;BU;(Member_of_Any {SID(DA), SID(S-1-5-21-9-9-9-500)}))", "D:(XD;OICI;FA;;;BU;(Member_of_Any {SID(DA), SID(S-1-5-21-9-9-9-500)}))")]
    [InlineData("D:(ZA;;CR;00299570-246d-11d0-a768-00aa006e0529;;WD;(Member_of {SID(BA)}))", "D:(ZA;;CR;00299570-246d-11d0-a768-00aa006e0529;;WD;(Member_of {SID(BA)}))")]
    [InlineData("S:(XU;SA;FA;;;WD;(@Resource.Secrecy >= 2))", "S:(XU;SA;FA;;;WD;(@Resource.Secrecy >= 2))")]
    [InlineData("D:(XA;;FA;;;WD)", "D:(XA;;FA;;;WD)")]
    public void Callback_aces_go_from_sddl_to_binary_and_back(string sddl, string printed)
    {
        var binary = SddlParser.Parse(sddl, Domain).ToBinary();

        var descriptor = SecurityDescriptor.FromBinary(binary);

        Assert.Equal(printed, SddlWriter.Write(descriptor, Domain));
        Assert.Equal(binary, SddlParser.Parse(printed, Domain).ToBinary());
    }

    [Theory]
    [InlineData("D:(XA;;FA;;;WD;(@User.x == ))", 27)]
    [InlineData("D:(A;;FA;;;WD;(@User.x == 1))", 14)]
    [InlineData("D:(XA;;FA;;;WD;(Member_of SID(XX)))", 30)]
    public void Bad_conditions_in_sddl_are_refused_with_their_position_in_the_whole_text(string sddl, int position)
    {
        var error = Assert.Throws<SecurityFormatException>(() => SddlParser.Parse(sddl));

        Assert.Equal(position, error.Position);
    }

    [Fact]
    public void A_callback_ace_whose_data_is_not_a_condition_has_no_sddl_form()
    {
        var ace = new Ace { Type = AceType.AccessAllowedCallback, Sid = WellKnownSids.Everyone, ApplicationData = new byte[] { 1, 2, 3, 4 } };

        Assert.Throws<InvalidOperationException>(() => SddlWriter.WriteAce(ace));
    }
}
