using System.Text;
using System.Text.Json;
using CsCheck;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Properties;

/// <summary>
/// Generated mapping sheets through the real import endpoint: never a 500, a refusal is problem+json naming the
/// row, nothing is written by a refusal, and an accepted sheet's rows are stored exactly as sent.
/// </summary>
public sealed class CsvImportProperties(SqliteServer server) : IClassFixture<SqliteServer>
{
    private ServerHost Host => server.Host;

    private static readonly string[] Known = ["SourceDevice", "DestinationName", "DestinationOU", "PrimaryUser", "DestinationUser", "Status"];
    private static readonly string[] Unknown = ["Notes", "", "Owner", "Source Device", "Source\uFEFFDevice", "x\u0000y"];

    /// <summary>A header cell: a known column in any case with spaces around, or one Rehome does not know.</summary>
    private static readonly Gen<string> HeaderCell = Gen.Frequency(
        (5, Gen.Select(Gen.Int[0, Known.Length - 1], Gen.Bool, Gen.Bool, (i, upper, padded) =>
        {
            var name = upper ? Known[i].ToUpperInvariant() : Known[i];
            return padded ? $" {name} " : name;
        })),
        (1, Gen.Int[0, Unknown.Length - 1].Select(i => Unknown[i])));

    /// <summary>A cell: a clean value of its column's kind (most of the time), or something hostile.</summary>
    private static readonly Gen<Cell> Cells = Gen.Frequency(
        (12, Gen.Int[0, 9999].Select(n => new Cell(null, false))),
        (3, Gen.Const(new Cell("", false))),
        (1, Gen.Const(new Cell("bad\u0001cell", false))),
        (1, Gen.Const(new Cell("esc\u001b[2J", false))),
        (1, Gen.Int[1, 40].Select(k => new Cell(new string('h', k * 1000), false))),
        (1, Gen.Const(new Cell("broken \"quote", false))),
        (1, Gen.Const(new Cell("=HYPERLINK(\"x\")", false))),
        (1, Gen.Const(new Cell("two\nlines", true))));

    private static readonly Gen<Sheet> HostileSheets = Gen.Select(
        HeaderCell.Array[1, 7],
        Gen.Select(Cells.Array[0, 8], Gen.Bool).Array[0, 5],
        Gen.Int[0, 2], Gen.Bool, Gen.Bool,
        (header, rows, delimiter, bom, crlf) => new Sheet(header, rows.Select(r => new SheetRow(r.Item1, r.Item2)).ToArray(), ",;\t"[delimiter], bom, crlf));

    /// <summary>Sheets a spreadsheet would write: each known column once (source device first), an unknown one maybe, clean rows of any length.</summary>
    private static readonly Gen<Sheet> PlainSheets = Gen.Select(
        Gen.Int[1, Known.Length], Gen.Bool, Gen.Select(Gen.Int[0, 8], Gen.Bool).Array[1, 5], Gen.Int[0, 2], Gen.Bool, Gen.Bool,
        (columns, notes, rows, delimiter, bom, crlf) => new Sheet(
            [.. Known.Take(columns), .. notes ? new[] { "Notes" } : []],
            rows.Select(r => new SheetRow([.. Enumerable.Repeat(new Cell(null, false), Math.Max(1, r.Item1))], r.Item2)).ToArray(),
            ",;\t"[delimiter], bom, crlf));

    private static readonly Gen<Sheet> Sheets = Gen.Frequency((2, HostileSheets), (1, PlainSheets));

    [Fact]
    public async Task Generated_sheets_never_get_a_500_a_refusal_names_the_row_and_writes_nothing_and_accepted_rows_are_stored_as_sent()
    {
        var project = await Host.Client.CreateProjectAsync();
        var accepted = 0;
        await Sheets.SampleAsync(async sheet =>
        {
            var (csv, expected) = sheet.Render(Guid.NewGuid().ToString("N")[..6].ToUpperInvariant());
            var before = await Host.FingerprintAsync();

            using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(csv));
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("text/csv");
            using var response = await Host.Client.PostAsync(new Uri($"/api/v1/projects/{project}/mappings/import", UriKind.Relative), content);

            var what = Hostile(csv);
            await ApiBodyProperties.AssertAnswerAsync(response, before, what, Host.FingerprintAsync);
            if (response.IsSuccessStatusCode)
            {
                accepted++;
                await AssertStoredAsync(project, expected, what);
            }
        }, seed: "000000000021", iter: 150, threads: 1, print: sheet => Hostile(sheet.Render("SEED").Csv));

        Assert.True(accepted > 5, $"only {accepted} generated sheets were accepted: the generator no longer tests accepted rows");
    }

    private async Task AssertStoredAsync(Guid project, IReadOnlyList<Dictionary<string, string?>> expected, string what)
    {
        var page = await Host.Client.GetJsonAsync($"/api/v1/projects/{project}/mappings?pageSize=1000");
        var stored = page.GetProperty("items").EnumerateArray().ToList();
        foreach (var row in expected)
        {
            var device = row["sourceDevice"];
            var mapping = stored.SingleOrDefault(m => m.GetProperty("sourceDevice").GetString() == device);
            Assert.True(mapping.ValueKind == JsonValueKind.Object, $"{what}: the accepted row of {device} is not stored");
            foreach (var (field, value) in row)
            {
                Assert.True(mapping.GetProperty(field).GetString() == value, $"{what}: {device}'s {field} is '{mapping.GetProperty(field)}', sent '{value}'");
            }
        }
    }

    private static string Hostile(string csv) =>
        "CSV: " + string.Concat(csv.Take(600).Select(c => char.IsControl(c) && c != '\n' || c == '\uFEFF' ? $"\\u{(int)c:x4}" : c.ToString()))
        + (csv.Length > 600 ? $"… ({csv.Length} characters)" : "");

    /// <summary>A cell's text (null: a clean value of its column's kind) and whether it is enclosed in quotation marks.</summary>
    public sealed record Cell(string? Text, bool Quoted);

    public sealed record SheetRow(Cell[] Cells, bool Quoted);

    public sealed record Sheet(string[] Header, SheetRow[] Rows, char Delimiter, bool Bom, bool CrLf)
    {
        /// <summary>The file, and for each row Rehome should accept as sent, the fields it should store.</summary>
        public (string Csv, List<Dictionary<string, string?>> Expected) Render(string unique)
        {
            var text = new StringBuilder(Bom ? "\uFEFF" : "");
            var newline = CrLf ? "\r\n" : "\n";
            text.Append(string.Join(Delimiter, Header.Select(h => Quote(h, false)))).Append(newline);
            var columns = Header.Select(h => Known.FirstOrDefault(k => string.Equals(k, h.Trim(), StringComparison.OrdinalIgnoreCase))).ToArray();
            var expected = new List<Dictionary<string, string?>>();
            for (var r = 0; r < Rows.Length; r++)
            {
                var row = Rows[r];
                var values = row.Cells.Select((cell, c) => cell.Text ?? Clean(c < columns.Length ? columns[c] : null, unique, r)).ToArray();
                text.Append(string.Join(Delimiter, values.Select((v, c) => Quote(v, row.Quoted || row.Cells[c].Quoted)))).Append(newline);
                string? Value(string column) =>
                    Array.IndexOf(columns, column) is var i and >= 0 && i < values.Length && values[i].Length > 0 ? values[i] : null;
                if (Value("SourceDevice") is { } device)
                {
                    var fields = new Dictionary<string, string?>
                    {
                        ["sourceDevice"] = device,
                        ["destinationName"] = Value("DestinationName") ?? device,
                        ["destinationOu"] = Value("DestinationOU"),
                        ["primaryUser"] = Value("PrimaryUser"),
                        ["destinationUser"] = Value("DestinationUser"),
                    };
                    expected.Add(fields);
                }
            }
            return (text.ToString(), expected);
        }

        private string Quote(string value, bool always) =>
            always || value.IndexOfAny([Delimiter, '"', '\n', '\r']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;

        /// <summary>A value the column takes as it is: device names unique to this sheet and row.</summary>
        private static string Clean(string? column, string unique, int row) => column switch
        {
            "SourceDevice" => $"S{unique}{row}",
            "DestinationName" => $"D{unique}{row}",
            "DestinationOU" => "OU=Migrated,DC=fabrikam,DC=example",
            "PrimaryUser" => $"CONTOSO\\u{row}",
            "DestinationUser" => $"u{row}@fabrikam.example",
            "Status" => "Finished",
            _ => "note",
        };
    }
}
