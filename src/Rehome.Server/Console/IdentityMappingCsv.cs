using System.Globalization;
using System.Text;
using CsvHelper;
using CsvHelper.Configuration;
using Rehome.Core.Policies;

namespace Rehome.Server.Console;

/// <summary>
/// A policy's explicit identity mappings as CSV (<c>Type,Source,Destination</c>; Type is User, Group or
/// Domain), to edit them in a spreadsheet: export, change, import. An import with a bad row changes nothing.
/// </summary>
public static class IdentityMappingCsv
{
    public const string Header = "Type,Source,Destination";

    public static string Write(IdentityMappingSettings mappings)
    {
        var text = new StringBuilder(Header).Append('\n');
        void Add(string type, IEnumerable<IdentityPair> pairs)
        {
            foreach (var p in pairs)
            {
                text.Append(CultureInfo.InvariantCulture, $"{type},{Quote(p.Source)},{Quote(p.Destination)}\n");
            }
        }
        Add("User", mappings.Users);
        Add("Group", mappings.Groups);
        Add("Domain", mappings.Domains);
        return text.ToString();
    }

    /// <summary>The users, groups and domains of the file, or the bad rows (numbered as a spreadsheet does, the header being row 1).</summary>
    public static (List<IdentityPair> Users, List<IdentityPair> Groups, List<IdentityPair> Domains, List<string> Errors) Parse(string csv)
    {
        List<IdentityPair> users = [], groups = [], domains = [];
        var errors = new List<string>();
        using var reader = new StringReader(csv);
        using var parser = new CsvParser(reader, new CsvConfiguration(CultureInfo.InvariantCulture) { HasHeaderRecord = false, DetectDelimiter = true });
        while (parser.Read())
        {
            var cells = parser.Record ?? [];
            var row = parser.Row;
            if (cells.All(string.IsNullOrWhiteSpace) || (row == 1 && string.Equals(cells[0].Trim(), "Type", StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }
            if (cells.Length != 3 || cells.Any(string.IsNullOrWhiteSpace))
            {
                errors.Add($"Row {row}: expected Type,Source,Destination with all three filled.");
                continue;
            }
            var pair = new IdentityPair(cells[1].Trim(), cells[2].Trim());
            switch (cells[0].Trim().ToUpperInvariant())
            {
                case "USER": users.Add(pair); break;
                case "GROUP": groups.Add(pair); break;
                case "DOMAIN": domains.Add(pair); break;
                default: errors.Add($"Row {row}: the type '{cells[0].Trim()}' is not User, Group or Domain."); break;
            }
        }
        return (users, groups, domains, errors);
    }

    private static string Quote(string value) =>
        value.IndexOfAny([',', '"', '\n']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
}
