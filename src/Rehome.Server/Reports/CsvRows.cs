using System.Globalization;
using System.Text;
using CsvHelper;

namespace Rehome.Server.Reports;

/// <summary>
/// Writes CSV rows (RFC 4180, every cell through <see cref="CsvCells.Neutralise"/>) to an answer's body as they
/// come: rows are formatted into a small buffer and sent every <see cref="BatchRows"/> rows with an asynchronous
/// write, so an export of any size holds one batch in memory and never blocks a thread on the network.
/// </summary>
public sealed class CsvRows : IAsyncDisposable
{
    public const int BatchRows = 500;

    private readonly Stream _body;
    private readonly MemoryStream _buffer = new();
    private readonly StreamWriter _text;
    private readonly CsvWriter _csv;
    private int _pending;

    /// <summary>Starts the file with a UTF-8 byte order mark (so that spreadsheets read its letters as UTF-8) and <paramref name="header"/>.</summary>
    public CsvRows(Stream body, IEnumerable<string> header)
    {
        _body = body;
        _text = new StreamWriter(_buffer, new UTF8Encoding(encoderShouldEmitUTF8Identifier: true), leaveOpen: true);
        _csv = new CsvWriter(_text, CultureInfo.InvariantCulture, leaveOpen: true);
        foreach (var column in header)
        {
            _csv.WriteField(column);
        }
        _csv.NextRecord();
    }

    /// <summary>Writes one row; numbers and times are formatted by the caller (see <see cref="Number(long)"/>, <see cref="Time"/>).</summary>
    public ValueTask WriteAsync(params ReadOnlySpan<string?> cells)
    {
        foreach (var cell in cells)
        {
            _csv.WriteField(CsvCells.Neutralise(cell));
        }
        _csv.NextRecord();
        return ++_pending >= BatchRows ? FlushAsync() : ValueTask.CompletedTask;
    }

    /// <summary>Sends what is buffered.</summary>
    public async ValueTask FlushAsync()
    {
        _csv.Flush();
        _text.Flush();
        if (_buffer.Length > 0)
        {
            await _body.WriteAsync(_buffer.GetBuffer().AsMemory(0, (int)_buffer.Length));
            await _body.FlushAsync();
            _buffer.SetLength(0);
        }
        _pending = 0;
    }

    public async ValueTask DisposeAsync()
    {
        await FlushAsync();
        await _csv.DisposeAsync();
        await _text.DisposeAsync();
        await _buffer.DisposeAsync();
    }

    public static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static string? Number(double? value) => value?.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>ISO 8601 in UTC, which spreadsheets and scripts read alike.</summary>
    public static string? Time(DateTimeOffset? value) => value?.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
