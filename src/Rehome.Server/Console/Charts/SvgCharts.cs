using System.Globalization;
using System.Text;

namespace Rehome.Server.Console.Charts;

/// <summary>A moment of a run: how many of its jobs had ended finished and failed by then (cumulative).</summary>
public sealed record ProgressPoint(DateTimeOffset At, int Finished, int Failed);

/// <summary>One bar: a label (text from outside, encoded when drawn) and its count.</summary>
public sealed record ChartBar(string Label, int Count);

/// <summary>
/// Charts drawn on the server as inline SVG: no script, no front-end build, nothing fetched. Pure functions of the
/// counts they are given; every text is encoded, and each chart carries a <c>title</c> and a <c>desc</c> (the pages
/// add a table of the same numbers).
/// </summary>
public static class SvgCharts
{
    public const int Width = 640;
    public const int PlotLeft = 60;
    public const int PlotRight = Width - 20;
    public const int PlotTop = 20;
    public const int PlotBottom = 200;
    private const int ProgressHeight = 250;
    private const int BarRow = 26;
    private const int BarLabelWidth = 260;
    private const int BarMaxWidth = Width - BarLabelWidth - 70;

    /// <summary>The longest label drawn; the table beside the chart shows it whole.</summary>
    public const int MaxLabelLength = 40;

    /// <summary>Where a moment lands across the plot (the run's start at the left edge, its last moment at the right).</summary>
    public static double X(DateTimeOffset at, DateTimeOffset start, DateTimeOffset end)
    {
        var span = (end - start).TotalSeconds;
        var share = span <= 0 ? 1 : Math.Clamp((at - start).TotalSeconds / span, 0, 1);
        return PlotLeft + share * (PlotRight - PlotLeft);
    }

    /// <summary>Where a count lands up the plot (zero at the bottom, <paramref name="total"/> at the top).</summary>
    public static double Y(int count, int total) =>
        PlotBottom - (total <= 0 ? 0 : Math.Clamp((double)count / total, 0, 1)) * (PlotBottom - PlotTop);

    /// <summary>
    /// A line chart of a run's jobs finished and failed against time, out of <paramref name="total"/> jobs, from
    /// <paramref name="start"/> to <paramref name="end"/>. <paramref name="id"/> names the chart's title and description.
    /// </summary>
    public static string Progress(string id, string title, string description, IReadOnlyList<ProgressPoint> points, int total, DateTimeOffset start, DateTimeOffset end)
    {
        var svg = Open(id, title, description, ProgressHeight);
        svg.Append(Invariant($"<line class=\"axis\" x1=\"{PlotLeft}\" y1=\"{PlotBottom}\" x2=\"{PlotRight}\" y2=\"{PlotBottom}\" stroke=\"#888\" />"));
        svg.Append(Invariant($"<line class=\"axis\" x1=\"{PlotLeft}\" y1=\"{PlotTop}\" x2=\"{PlotLeft}\" y2=\"{PlotBottom}\" stroke=\"#888\" />"));
        svg.Append(Invariant($"<line x1=\"{PlotLeft}\" y1=\"{PlotTop}\" x2=\"{PlotRight}\" y2=\"{PlotTop}\" stroke=\"#ddd\" stroke-dasharray=\"4 4\" />"));
        Text(svg, PlotLeft - 6, PlotBottom + 4, "end", "0");
        Text(svg, PlotLeft - 6, PlotTop + 4, "end", total.ToString("N0", CultureInfo.InvariantCulture));
        Text(svg, PlotLeft, PlotBottom + 18, "start", start.ToUniversalTime().ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture));
        Text(svg, PlotRight, PlotBottom + 18, "end", end.ToUniversalTime().ToString("HH:mm:ss 'UTC'", CultureInfo.InvariantCulture));
        Series(svg, "finished", "#1a7f37", points.Select(p => (p.At, p.Finished)), total, start, end);
        Series(svg, "failed", "#cf222e", points.Select(p => (p.At, p.Failed)), total, start, end);
        // The legend.
        svg.Append(Invariant($"<rect x=\"{PlotLeft}\" y=\"{PlotBottom + 28}\" width=\"12\" height=\"4\" fill=\"#1a7f37\" />"));
        Text(svg, PlotLeft + 16, PlotBottom + 34, "start", Invariant($"finished ({Last(points, p => p.Finished):N0})"));
        svg.Append(Invariant($"<rect x=\"{PlotLeft + 160}\" y=\"{PlotBottom + 28}\" width=\"12\" height=\"4\" fill=\"#cf222e\" />"));
        Text(svg, PlotLeft + 176, PlotBottom + 34, "start", Invariant($"failed ({Last(points, p => p.Failed):N0})"));
        return svg.Append("</svg>").ToString();
    }

    /// <summary>A horizontal bar chart (the longest bar for the largest count); labels longer than <see cref="MaxLabelLength"/> are cut.</summary>
    public static string Bars(string id, string title, string description, IReadOnlyList<ChartBar> bars)
    {
        var svg = Open(id, title, description, Math.Max(1, bars.Count) * BarRow + 10);
        var max = bars.Count == 0 ? 0 : bars.Max(b => b.Count);
        for (var i = 0; i < bars.Count; i++)
        {
            var y = 5 + i * BarRow;
            var width = BarWidth(bars[i].Count, max);
            Text(svg, BarLabelWidth - 8, y + 16, "end", Shorten(bars[i].Label));
            svg.Append(Invariant($"<rect class=\"bar\" x=\"{BarLabelWidth}\" y=\"{y + 3}\" width=\"{width:0.#}\" height=\"{BarRow - 8}\" fill=\"#cf222e\" />"));
            Text(svg, BarLabelWidth + width + 6, y + 16, "start", bars[i].Count.ToString("N0", CultureInfo.InvariantCulture));
        }
        return svg.Append("</svg>").ToString();
    }

    /// <summary>How long the bar of <paramref name="count"/> is when <paramref name="max"/> fills the width.</summary>
    public static double BarWidth(int count, int max) => max <= 0 ? 0 : Math.Clamp((double)count / max, 0, 1) * BarMaxWidth;

    private static StringBuilder Open(string id, string title, string description, int height) =>
        new StringBuilder()
            .Append(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" id=\"{Encode(id)}\" role=\"img\" "))
            .Append(Invariant($"aria-labelledby=\"{Encode(id)}-title {Encode(id)}-desc\" viewBox=\"0 0 {Width} {height}\" width=\"{Width}\" height=\"{height}\">"))
            .Append(Invariant($"<title id=\"{Encode(id)}-title\">{Encode(title)}</title><desc id=\"{Encode(id)}-desc\">{Encode(description)}</desc>"));

    private static void Series(StringBuilder svg, string name, string color, IEnumerable<(DateTimeOffset At, int Count)> values, int total, DateTimeOffset start, DateTimeOffset end)
    {
        var points = string.Join(" ", values.Select(v => Invariant($"{X(v.At, start, end):0.#},{Y(v.Count, total):0.#}")));
        svg.Append(Invariant($"<polyline class=\"{name}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{points}\" />"));
    }

    private static void Text(StringBuilder svg, double x, double y, string anchor, string text) =>
        svg.Append(Invariant($"<text x=\"{x:0.#}\" y=\"{y:0.#}\" text-anchor=\"{anchor}\" font-size=\"11\" fill=\"#333\">{Encode(text)}</text>"));

    private static int Last(IReadOnlyList<ProgressPoint> points, Func<ProgressPoint, int> value) => points.Count == 0 ? 0 : value(points[^1]);

    private static string Shorten(string label) => label.Length <= MaxLabelLength ? label : label[..(MaxLabelLength - 1)] + "…";

    /// <summary>Text for SVG content or an attribute: markup characters escaped, control characters (not allowed in XML) replaced.</summary>
    public static string Encode(string text) =>
        System.Net.WebUtility.HtmlEncode(string.Concat(text.Select(c => char.IsControl(c) ? '?' : c)));

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
