using System.Text;
using CsCheck;
using Rehome.Directory.ActiveDirectory;
using Rehome.Directory.OfflineJoin;

namespace Rehome.Directory.Tests.Properties;

/// <summary>
/// Offline join data and the names it is made for, generated and damaged: refused with a format error (or a
/// refused name), or accepted and consistent; never another exception.
/// </summary>
public sealed class OfflineJoinProperties
{
    private const string NameAlphabet = "ABCxyz019-_. \n\r\t\u0000\u0663\u00e9$";

    private static readonly Gen<byte[]> ProvisioningData = Gen.Byte.Array[0, 200];

    private static readonly Gen<byte[]> Files = Gen.OneOf(
        ProvisioningData.Select(data => OfflineJoinFile.FromBase64Text(Convert.ToBase64String(data))),
        Gen.Select(ProvisioningData, Gen.Int[0, int.MaxValue].Array[1, 4], Gen.Byte.Array[1, 4], Gen.Int[0, 3], (data, positions, values, ending) =>
        {
            var file = OfflineJoinFile.FromBase64Text(Convert.ToBase64String(data));
            for (var index = 0; index < Math.Min(positions.Length, values.Length); index++)
            {
                file[positions[index] % file.Length] = values[index];
            }
            return ending switch
            {
                0 => file[..(positions[0] % file.Length)],
                1 => [.. file, .. values],
                _ => file,
            };
        }),
        Gen.Byte.Array[0, 64]);

    [Fact]
    public void Damaged_or_random_files_are_refused_with_a_format_error_or_hold_base64_that_makes_the_same_file_data()
    {
        Files.Sample(file =>
        {
            string text;
            try
            {
                text = OfflineJoinFile.ToBase64Text(file);
            }
            catch (FormatException)
            {
                return;
            }

            var again = OfflineJoinFile.FromBase64Text(text);
            Assert.Equal(Convert.FromBase64String(text), Convert.FromBase64String(OfflineJoinFile.ToBase64Text(again)));
            Assert.True(again.AsSpan().StartsWith(Encoding.Unicode.GetPreamble()));
        }, seed: "000000000031", iter: 3000, threads: 1, print: Convert.ToHexString);
    }

    [Fact]
    public void Any_text_is_refused_with_a_format_error_or_becomes_a_file_holding_that_text()
    {
        Gen.OneOf(ProvisioningData.Select(Convert.ToBase64String), Gen.Char["QUJD=+/ \n\u0000\u00e9"].Array[0, 40].Select(c => new string(c))).Sample(text =>
        {
            byte[] file;
            try
            {
                file = OfflineJoinFile.FromBase64Text(text);
            }
            catch (FormatException)
            {
                return;
            }

            Assert.Equal(text.Trim(), OfflineJoinFile.ToBase64Text(file));
        }, seed: "000000000032", iter: 3000, threads: 1);
    }

    [Fact]
    public void A_name_is_accepted_only_when_it_is_one_to_fifteen_letters_digits_or_hyphens_and_not_only_digits()
    {
        Gen.Char[NameAlphabet].Array[0, 18].Select(c => new string(c)).Sample(name =>
        {
            var plain = name.Length is >= 1 and <= 15 && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '-') && !name.All(char.IsAsciiDigit);

            Assert.Equal(plain, ComputerName.IsValid(name));
        }, seed: "000000000033", iter: 3000, threads: 1, print: name => string.Concat(name.Select(c => $"\\u{(int)c:x4}")));
    }

    [Theory]
    [InlineData("PC01\n")]
    [InlineData("ABC-1\n")]
    public void A_name_with_a_trailing_line_break_is_refused(string name)
    {
        Assert.False(ComputerName.IsValid(name));
    }
}
