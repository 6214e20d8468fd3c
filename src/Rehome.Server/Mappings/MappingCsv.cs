using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;
using Rehome.Core.Mappings;
using Rehome.Server.Reports;

namespace Rehome.Server.Mappings;

/// <summary>One thing wrong with one row of an import: its row number (the header is row 1), column and reason.</summary>
public sealed record ImportError(int Row, string? Column, string Reason);

/// <summary>A parsed row and where it stood in the file.</summary>
public sealed record ImportRow(int Row, MappingInput Mapping);

/// <summary>What a mappings CSV holds: its rows or everything wrong with it, and the columns left alone.</summary>
public sealed record ParsedMappings(List<ImportRow> Rows, List<ImportError> Errors, IReadOnlyList<string> IgnoredColumns);

/// <summary>
/// The CSV form of mappings. Headers are matched without regard to case or surrounding spaces; the
/// delimiter (comma, semicolon, tab) is detected, since spreadsheets export with the one of their locale.
/// </summary>
public static class MappingCsv
{
    public const string SourceDevice = "SourceDevice";
    public const string DestinationName = "DestinationName";
    public const string DestinationOu = "DestinationOU";
    public const string PrimaryUser = "PrimaryUser";
    public const string DestinationUser = "DestinationUser";

    /// <summary>Written by the export for information; the import accepts and ignores them.</summary>
    public static readonly string[] InformationColumns = ["Stage", "Status"];

    public static readonly string[] Columns = [SourceDevice, DestinationName, DestinationOu, PrimaryUser, DestinationUser];

    /// <summary>
    /// Parses the whole file: every row, or the list of everything wrong with it. Columns Rehome does not know
    /// (administrators keep notes beside their mappings) are left alone and named in <see cref="ParsedMappings.IgnoredColumns"/>.
    /// </summary>
    public static ParsedMappings Parse(TextReader text, int maxRows)
    {
        var rows = new List<ImportRow>();
        var errors = new List<ImportError>();
        var ignored = new List<string>();
        var badRows = new HashSet<int>();
        var configuration = new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            DetectDelimiter = true,
            DetectDelimiterValues = [",", ";", "\t"],
            TrimOptions = TrimOptions.Trim,
            IgnoreBlankLines = true,
            MissingFieldFound = null,
            // Said in our words and collected, so that one import names every broken row, not the first only.
            BadDataFound = bad =>
            {
                var row = bad.Context.Parser?.Row ?? 0;
                if (badRows.Add(row))
                {
                    errors.Add(new ImportError(row, null, BrokenQuotation(row)));
                }
            },
        };
        using var csv = new CsvReader(text, configuration);
        try
        {
            if (!csv.Read() || !csv.ReadHeader() || csv.HeaderRecord is not { Length: > 0 } header)
            {
                errors.Add(new ImportError(1, null, $"The file is empty: the first row must name the columns ({string.Join(", ", Columns)})."));
                return new ParsedMappings(rows, errors, ignored);
            }
            var index = MapHeader(header, errors, ignored);
            if (errors.Count > 0)
            {
                return new ParsedMappings(rows, errors, ignored);
            }
            while (csv.Read())
            {
                var row = csv.Parser.Row;
                if (rows.Count >= maxRows)
                {
                    errors.Add(new ImportError(row, null, $"The file has more than {maxRows:N0} rows; split it into several imports."));
                    break;
                }
                string? Field(string column) => index.TryGetValue(column, out var i) && i < csv.Parser.Count ? CsvCells.Restore(NullIfEmpty(csv.GetField(i))) : null;
                rows.Add(new ImportRow(row, new MappingInput
                {
                    SourceDevice = Field(SourceDevice),
                    DestinationName = Field(DestinationName),
                    DestinationOu = Field(DestinationOu),
                    PrimaryUser = Field(PrimaryUser),
                    DestinationUser = Field(DestinationUser),
                }));
            }
        }
        catch (CsvHelperException e)
        {
            // The parser's own message names its types and settings: the administrator gets the row and what to check.
            var row = e.Context?.Parser?.Row ?? 0;
            errors.Add(new ImportError(row, null, $"Row {row} cannot be read as CSV; check its quotation marks and delimiters."));
        }
        return new ParsedMappings(rows, errors.OrderBy(e => e.Row).ToList(), ignored);
    }

    /// <summary>
    /// A quotation mark out of place: inside a value that does not start with one, or one that opens a value
    /// and is never closed (the rest of the file then reads as that one value).
    /// </summary>
    private static string BrokenQuotation(int row) =>
        $"Row {row} has a quotation mark out of place: a value with a quotation mark in it must be enclosed in quotation marks, " +
        "with each quotation mark inside doubled (\"\"), and every opening quotation mark needs its closing one.";

    public static void Write(TextWriter text, IEnumerable<Mapping> mappings)
    {
        using var csv = new CsvWriter(text, CultureInfo.InvariantCulture, leaveOpen: true);
        foreach (var column in Columns.Concat(InformationColumns))
        {
            csv.WriteField(column);
        }
        csv.NextRecord();
        foreach (var m in mappings)
        {
            csv.WriteField(CsvCells.Neutralise(m.SourceDevice));
            csv.WriteField(CsvCells.Neutralise(m.DestinationName));
            csv.WriteField(CsvCells.Neutralise(m.DestinationOu));
            csv.WriteField(CsvCells.Neutralise(m.PrimaryUser));
            csv.WriteField(CsvCells.Neutralise(m.DestinationUser));
            csv.WriteField(m.Stage?.ToString());
            csv.WriteField(m.Status?.ToString());
            csv.NextRecord();
        }
    }

    private static Dictionary<string, int> MapHeader(string[] header, List<ImportError> errors, List<string> ignored)
    {
        var index = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < header.Length; i++)
        {
            var name = header[i].Trim();
            var known = Columns.Concat(InformationColumns).FirstOrDefault(c => string.Equals(c, name, StringComparison.OrdinalIgnoreCase));
            if (known is null)
            {
                var shown = name.Length > 0 ? name : $"(column {i + 1}, without a name)";
                if (!ignored.Contains(shown, StringComparer.OrdinalIgnoreCase))
                {
                    ignored.Add(shown);
                }
            }
            else if (!index.TryAdd(known, i))
            {
                errors.Add(new ImportError(1, name, $"The column '{known}' appears twice."));
            }
        }
        if (!index.ContainsKey(SourceDevice))
        {
            errors.Add(new ImportError(1, SourceDevice, $"The column '{SourceDevice}' is required; the columns are {string.Join(", ", Columns)}."));
        }
        return index;
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
