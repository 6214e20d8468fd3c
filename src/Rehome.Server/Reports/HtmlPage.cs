using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Unicode;
using Rehome.Core.Validation;

namespace Rehome.Server.Reports;

/// <summary>
/// A printable page written to an answer's body as it is made: markup is Rehome's own, every text is encoded
/// (device names, reasons and log text may be hostile: <c>&lt;script&gt;</c> shows as text) with control and
/// bidirectional characters shown as escapes. Sent in chunks with asynchronous writes.
/// </summary>
public sealed class HtmlPage(Stream body)
{
    private const int ChunkChars = 32 * 1024;

    /// <summary>Encodes markup characters and leaves letters of every script as they are.</summary>
    private static readonly HtmlEncoder Encoder = HtmlEncoder.Create(UnicodeRanges.All);

    /// <summary>
    /// The report's one style sheet: plain tables on screen, and for Print → PDF a page size, repeated table
    /// headers and rows never cut across pages.
    /// </summary>
    public const string StyleSheet = """
        body { font-family: system-ui, sans-serif; font-size: 11pt; color: #111; margin: 2em; }
        h1 { font-size: 16pt; margin-bottom: 0.2em; } h2 { font-size: 13pt; margin-top: 1.5em; }
        table { border-collapse: collapse; width: 100%; margin: 0.5em 0; }
        th, td { border: 1px solid #999; padding: 0.2em 0.4em; text-align: left; vertical-align: top; }
        td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
        .muted { color: #555; } .reason { white-space: pre-wrap; word-break: break-word; }
        @media print {
          @page { size: A4 landscape; margin: 12mm; }
          body { margin: 0; font-size: 9pt; }
          thead { display: table-header-group; }
          tr, td, th { break-inside: avoid; }
          a { color: inherit; text-decoration: none; }
        }
        """;

    /// <summary>
    /// The answer's Content-Security-Policy: nothing may load or run, only this style sheet (by its hash) applies,
    /// so even text that escaped encoding could do nothing.
    /// </summary>
    public static readonly string ContentSecurityPolicy =
        $"{Hosting.SecurityHeaders.DenyAll} style-src 'sha256-{Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(StyleSheet)))}'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private readonly StringBuilder _buffer = new();

    /// <summary>Rehome's own markup, as is.</summary>
    public HtmlPage Raw(string markup)
    {
        _buffer.Append(markup);
        return this;
    }

    /// <summary>Text from the store or from outside, encoded.</summary>
    public HtmlPage Text(string? text)
    {
        Encoder.Encode(new StringWriter(_buffer), TextRules.Neutralise(text, multiLine: true));
        return this;
    }

    /// <summary>A table cell holding <paramref name="text"/>; <paramref name="css"/> is Rehome's own class name.</summary>
    public HtmlPage Cell(string? text, string? css = null) => Raw(css is null ? "<td>" : $"<td class=\"{css}\">").Text(text).Raw("</td>");

    public HtmlPage Start(string title) => Raw("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Text(title)
        .Raw("</title><style>").Raw(StyleSheet).Raw("</style></head><body>\n");

    public HtmlPage End() => Raw("</body></html>\n");

    /// <summary>Sends the buffer once it holds a chunk's worth.</summary>
    public ValueTask FlushIfFullAsync() => _buffer.Length >= ChunkChars ? FlushAsync() : ValueTask.CompletedTask;

    public async ValueTask FlushAsync()
    {
        if (_buffer.Length == 0)
        {
            return;
        }
        var bytes = Encoding.UTF8.GetBytes(_buffer.ToString());
        _buffer.Clear();
        await body.WriteAsync(bytes);
        await body.FlushAsync();
    }
}
