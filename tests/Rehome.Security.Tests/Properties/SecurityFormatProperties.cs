using CsCheck;
using Rehome.Security.Conditions;
using Rehome.Security.Descriptors;
using Rehome.Security.Sddl;
using Rehome.Security.Tests.Support;

namespace Rehome.Security.Tests.Properties;

/// <summary>
/// Hostile SDDL text, condition text and binary: the parsers refuse with their own format error (and a position
/// or offset inside the input), and whatever they accept prints and parses back to the same thing.
/// </summary>
public sealed class SecurityFormatProperties
{
    private const string SddlAlphabet = "OGDS:();AXUPIRCFK0123456789-xabcdef\"{}@ =SYBAWDNO_#,!&|<>\u0000\u00e9\u202e\n";
    private const string ConditionAlphabet = "()@User.Device.x=!<>&|{},\"#0123456789abcdefSID-+ Member_ofExistsContainsAny_ofNot_%\u0000\u00e9\n";

    private static readonly Gen<int> Seeds = Gen.Int[0, int.MaxValue];

    private static readonly Gen<string> ValidSddl = Seeds.Select(seed => SddlWriter.Write(new DescriptorGenerator(seed).NextSddlDescriptor()));

    // Valid text among the hostile, so that the round trip of accepted input is tested often.
    private static readonly Gen<string> HostileSddl = Gen.OneOf(
        ValidSddl,
        Hostile.Mutated(ValidSddl, SddlAlphabet),
        Gen.Char[SddlAlphabet].Array[0, 60].Select(chars => new string(chars)),
        Gen.Char.Array[0, 60].Select(chars => "D:(" + new string(chars)));

    private static readonly Gen<ConditionalExpression> Expressions = Seeds.Select(seed =>
        new ConditionGenerator(new Random(seed), new DescriptorGenerator(seed).NextSid).NextExpression(allowShortIntegers: true));

    private static readonly Gen<string> HostileConditions = Gen.OneOf(
        Expressions.Select(expression => Printable(expression) ?? "(x)"),
        Hostile.Mutated(Expressions.Select(expression => Printable(expression) ?? "(x)"), ConditionAlphabet),
        Gen.Char[ConditionAlphabet].Array[0, 60].Select(chars => "(" + new string(chars)));

    [Fact]
    public void Hostile_sddl_is_refused_with_a_format_error_or_prints_and_parses_back_to_the_same_descriptor()
    {
        Hostile.Check(HostileSddl, text =>
        {
            SecurityDescriptor parsed;
            try
            {
                parsed = SddlParser.Parse(text);
            }
            catch (SecurityFormatException error)
            {
                Assert.InRange(error.Position ?? -1, 0, text.Length);
                return false;
            }

            var printed = SddlWriter.Write(parsed);
            var again = SddlParser.Parse(printed);

            Assert.Equal(parsed, again);
            Assert.Equal(printed, SddlWriter.Write(again));
            Assert.Equal(parsed.ToBinary(), again.ToBinary());
            return true;
        }, seed: "000000000001", cases: 2000, Hostile.Quoted);
    }

    [Fact]
    public void Hostile_condition_text_is_refused_with_a_format_error_or_prints_and_compiles_back_to_the_same_bytes()
    {
        Hostile.Check(HostileConditions, text =>
        {
            ConditionalExpression parsed;
            try
            {
                parsed = ConditionalExpression.Parse(text);
            }
            catch (SecurityFormatException error)
            {
                Assert.InRange(error.Position ?? -1, 0, text.Length);
                return false;
            }

            var binary = parsed.ToBinary();
            var printed = parsed.ToSddl();
            var again = ConditionalExpression.Parse(printed);

            Assert.Equal(printed, again.ToSddl());
            Assert.Equal(binary, again.ToBinary());
            Assert.Equal(binary, ConditionalExpression.FromBinary(binary).ToBinary());
            return true;
        }, seed: "000000000002", cases: 2000, Hostile.Quoted);
    }

    [Fact]
    public void Damaged_condition_binary_is_refused_with_an_offset_or_decodes_to_an_expression_that_round_trips()
    {
        var damaged = Hostile.Damaged(Expressions.Select(expression => expression.ToBinary()));
        Hostile.Check(damaged, bytes =>
        {
            ConditionalExpression decoded;
            try
            {
                decoded = ConditionalExpression.FromBinary(bytes);
            }
            catch (SecurityFormatException error)
            {
                Assert.InRange(error.Offset ?? -1, 0, bytes.Length);
                return false;
            }

            var binary = decoded.ToBinary();
            Assert.Equal(binary, ConditionalExpression.FromBinary(binary).ToBinary());
            if (Printable(decoded) is { } text)
            {
                // Text has no width for an integer: a short one comes back as Int64, so the text is what must agree.
                var parsed = ConditionalExpression.Parse(text);
                Assert.Equal(text, parsed.ToSddl());
                Assert.Equal(text, ConditionalExpression.FromBinary(parsed.ToBinary()).ToSddl());
            }
            return true;
        }, seed: "000000000003", cases: 2000, Hostile.Hex);
    }

    [Fact]
    public void Generated_binary_descriptors_decode_and_encode_to_the_same_bytes()
    {
        Seeds.Select(seed => new DescriptorGenerator(seed).NextBinaryDescriptor().ToBinary()).Sample(bytes =>
        {
            Assert.Equal(bytes, SecurityDescriptor.FromBinary(bytes).ToBinary());
        }, seed: "000000000004", iter: 2000, threads: 1, print: Hostile.Hex);
    }

    [Fact]
    public void Damaged_binary_descriptors_are_refused_with_an_offset_or_decode_to_a_descriptor_that_round_trips()
    {
        var damaged = Hostile.Damaged(Seeds.Select(seed => new DescriptorGenerator(seed).NextBinaryDescriptor().ToBinary()));
        Hostile.Check(damaged, bytes =>
        {
            SecurityDescriptor decoded;
            try
            {
                decoded = SecurityDescriptor.FromBinary(bytes);
            }
            catch (SecurityFormatException error)
            {
                Assert.InRange(error.Offset ?? -1, 0, bytes.Length);
                return false;
            }

            var binary = decoded.ToBinary();
            var again = SecurityDescriptor.FromBinary(binary);
            Assert.Equal(decoded, again);
            Assert.Equal(binary, again.ToBinary());
            return true;
        }, seed: "000000000005", cases: 2000, Hostile.Hex);
    }

    /// <summary>The SDDL text of an expression, or null for one SDDL cannot write (decoded only from binary).</summary>
    private static string? Printable(ConditionalExpression expression)
    {
        try
        {
            return expression.ToSddl();
        }
        catch (InvalidOperationException error) when (error.Message.Contains("no SDDL form", StringComparison.Ordinal))
        {
            return null;
        }
    }
}
