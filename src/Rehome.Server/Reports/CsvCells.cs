namespace Rehome.Server.Reports;

/// <summary>
/// CSV injection: a spreadsheet runs a cell starting with = + - @ (or a tab or carriage return before one) as a
/// formula, and device names, users, reasons and audit details come from outside. Every CSV Rehome writes (the
/// mapping export, the reports, the audit log) passes its cells through <see cref="Neutralise"/>.
/// </summary>
public static class CsvCells
{
    /// <summary>Characters that make a spreadsheet read a cell as a formula.</summary>
    private static readonly char[] FormulaStarts = ['=', '+', '-', '@', '\t', '\r'];

    /// <summary>A cell a spreadsheet would run as a formula, written with a leading apostrophe, which it shows as text.</summary>
    public static string? Neutralise(string? value) =>
        value is { Length: > 0 } && FormulaStarts.Contains(value[0]) ? "'" + value : value;

    /// <summary>Takes back what <see cref="Neutralise"/> wrote (the mapping import reads its own export).</summary>
    public static string? Restore(string? value) =>
        value is { Length: > 1 } && value[0] == '\'' && FormulaStarts.Contains(value[1]) ? value[1..] : value;
}
