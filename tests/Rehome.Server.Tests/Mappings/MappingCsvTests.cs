using Rehome.Server.Mappings;

namespace Rehome.Server.Tests.Mappings;

/// <summary>Reading a mappings CSV: the columns it knows, the ones it leaves alone, and what it says of a broken file.</summary>
public sealed class MappingCsvTests
{
    [Fact]
    public void A_column_rehome_does_not_know_is_ignored_and_named()
    {
        var parsed = MappingCsv.Parse(new StringReader("SourceDevice,Notes,DestinationName,notes ,Owner\nPC01,call Ann first,PC01-NEW,x,Ann\n"), 100);

        Assert.Empty(parsed.Errors);
        var row = Assert.Single(parsed.Rows);
        Assert.Equal("PC01", row.Mapping.SourceDevice);
        Assert.Equal("PC01-NEW", row.Mapping.DestinationName);
        Assert.Equal(["Notes", "Owner"], parsed.IgnoredColumns);
    }

    [Theory]
    [InlineData("SourceDevice,DestinationName\nPC01,PC01\nPC02,PC\"02\n", 3)]
    [InlineData("SourceDevice,DestinationName\n\"PC01,PC01\nPC02,\"PC\"02\"\n", 2)]
    [InlineData("SourceDevice,DestinationName\nPC01,PC01\n\"PC02,PC02\nPC03,PC03\n", 3)]
    public void A_broken_quotation_is_said_in_rehomes_own_words_with_its_row(string csv, int row)
    {
        var parsed = MappingCsv.Parse(new StringReader(csv), 100);

        var error = Assert.Single(parsed.Errors);
        Assert.Equal(row, error.Row);
        Assert.Contains($"Row {row}", error.Reason, StringComparison.Ordinal);
        Assert.Contains("quotation mark", error.Reason, StringComparison.Ordinal);
        foreach (var word in new[] { "CsvHelper", "BadData", "IReader", "Parser", "Context", "Exception", "configuration" })
        {
            Assert.DoesNotContain(word, error.Reason, StringComparison.OrdinalIgnoreCase);
        }
    }
}
