using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;
using Rehome.Core.Mappings;

namespace Rehome.Server.Mappings;

/// <summary>One thing wrong with one row of an import: its row number (the header is row 1), column and reason.</summary>
public sealed record ImportError(int Row, string? Column, string Reason);

/// <summary>A parsed row and where it stood in the file.</summary>
public sealed record ImportRow(int Row, MappingInput Mapping);

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

    /// <summary>Parses the whole file; either every row or the list of everything wrong with it.</summary>
    public static (List<ImportRow> Rows, List<ImportError> Errors) Parse(TextReader text, int maxRows)
    {
        var rows = new List<ImportRow>();
        var errors = new List<ImportError>();
        var configuration = new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            DetectDelimiter = true,
            DetectDelimiterValues = [",", ";", "\t"],
            TrimOptions = TrimOptions.Trim,
            IgnoreBlankLines = true,
            MissingFieldFound = null,
        };
        using var csv = new CsvReader(text, configuration);
        try
        {
            if (!csv.Read() || !csv.ReadHeader() || csv.HeaderRecord is not { Length: > 0 } header)
            {
                errors.Add(new ImportError(1, null, $"The file is empty: the first row must name the columns ({string.Join(", ", Columns)})."));
                return (rows, errors);
            }
            var index = MapHeader(header, errors);
            if (errors.Count > 0)
            {
                return (rows, errors);
            }
            while (csv.Read())
            {
                var row = csv.Parser.Row;
                if (rows.Count >= maxRows)
                {
                    errors.Add(new ImportError(row, null, $"The file has more than {maxRows:N0} rows; split it into several imports."));
                    return (rows, errors);
                }
                string? Field(string column) => index.TryGetValue(column, out var i) && i < csv.Parser.Count ? Unguard(NullIfEmpty(csv.GetField(i))) : null;
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
            var row = e.Context?.Parser?.Row ?? 0;
            errors.Add(new ImportError(row, null, $"The file is not well-formed CSV at row {row}: {FirstLine(e.Message)}"));
        }
        return (rows, errors);
    }

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
            csv.WriteField(Guard(m.SourceDevice));
            csv.WriteField(Guard(m.DestinationName));
            csv.WriteField(Guard(m.DestinationOu));
            csv.WriteField(Guard(m.PrimaryUser));
            csv.WriteField(Guard(m.DestinationUser));
            csv.WriteField(m.Stage?.ToString());
            csv.WriteField(m.Status?.ToString());
            csv.NextRecord();
        }
    }

    private static Dictionary<string, int> MapHeader(string[] header, List<ImportError> errors)
    {
        var index = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < header.Length; i++)
        {
            var name = header[i].Trim();
            var known = Columns.Concat(InformationColumns).FirstOrDefault(c => string.Equals(c, name, StringComparison.OrdinalIgnoreCase));
            if (known is null)
            {
                errors.Add(new ImportError(1, name, $"Unknown column '{name}'; the columns are {string.Join(", ", Columns)}."));
            }
            else if (!index.TryAdd(known, i))
            {
                errors.Add(new ImportError(1, name, $"The column '{known}' appears twice."));
            }
        }
        if (!index.ContainsKey(SourceDevice))
        {
            errors.Add(new ImportError(1, SourceDevice, $"The column '{SourceDevice}' is required."));
        }
        return index;
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    /// <summary>Characters that make a spreadsheet read a cell as a formula (CSV injection).</summary>
    private static readonly char[] FormulaStarts = ['=', '+', '-', '@', '\t', '\r'];

    /// <summary>A cell a spreadsheet would run as a formula is written with a leading apostrophe, which it shows as text.</summary>
    private static string? Guard(string? value) =>
        value is { Length: > 0 } && FormulaStarts.Contains(value[0]) ? "'" + value : value;

    /// <summary>The import takes back what <see cref="Guard"/> wrote.</summary>
    private static string? Unguard(string? value) =>
        value is { Length: > 1 } && value[0] == '\'' && FormulaStarts.Contains(value[1]) ? value[1..] : value;

    private static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();
}
