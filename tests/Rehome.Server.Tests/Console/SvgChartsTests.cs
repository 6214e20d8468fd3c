using System.Xml.Linq;
using Rehome.Core.Runs;
using Rehome.Server.Console.Charts;

namespace Rehome.Server.Tests.Console;

/// <summary>The dashboard's charts: pure functions from counts to SVG, parsed back as XML.</summary>
public sealed class SvgChartsTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 8, 0, 0, TimeSpan.Zero);

    private static XElement Parse(string svg) => XElement.Parse(svg);

    private static string Points(XElement svg, string series) =>
        svg.Elements(Svg + "polyline").Single(p => (string?)p.Attribute("class") == series).Attribute("points")!.Value;

    [Fact]
    public void The_progress_chart_puts_each_count_at_its_time_and_height()
    {
        ProgressPoint[] points = [new(Start, 0, 0), new(Start.AddSeconds(50), 5, 1), new(Start.AddSeconds(100), 10, 2)];

        var svg = Parse(SvgCharts.Progress("p", "Jobs ended", "10 jobs", points, total: 10, Start, Start.AddSeconds(100)));

        // Plot from x 60 to 620 and from y 200 (zero) up to 20 (every job).
        Assert.Equal("60,200 340,110 620,20", Points(svg, "finished"));
        Assert.Equal("60,200 340,182 620,164", Points(svg, "failed"));
        Assert.Equal("Jobs ended", svg.Element(Svg + "title")!.Value);
        Assert.Equal("10 jobs", svg.Element(Svg + "desc")!.Value);
        Assert.Equal("img", (string?)svg.Attribute("role"));
        Assert.Equal("p-title p-desc", (string?)svg.Attribute("aria-labelledby"));
    }

    [Fact]
    public void The_bar_chart_draws_the_largest_count_longest_and_the_others_in_proportion()
    {
        var svg = Parse(SvgCharts.Bars("b", "Failures", "by reason", [new ChartBar("JoinFailed", 40), new ChartBar("DeviceOffline", 10)]));

        var widths = svg.Elements(Svg + "rect").Select(r => double.Parse(r.Attribute("width")!.Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(2, widths.Count);
        Assert.Equal(SvgCharts.BarWidth(40, 40), widths[0], 1);
        Assert.Equal(widths[0] / 4, widths[1], 1);
        var texts = svg.Elements(Svg + "text").Select(t => t.Value).ToList();
        Assert.Equal(new[] { "JoinFailed", "40", "DeviceOffline", "10" }, texts);
    }

    [Fact]
    public void Hostile_reason_text_is_drawn_as_text_and_never_as_markup()
    {
        const string hostile = "<script>alert(1)</script>\"' onload=x &amp;\u0001";

        var markup = SvgCharts.Bars("b\"><script>", hostile, hostile, [new ChartBar(hostile[..30], 3)]);

        var svg = Parse(markup);
        Assert.DoesNotContain(svg.Descendants(), e => e.Name.LocalName == "script");
        Assert.DoesNotContain("<script", markup, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("<script>alert(1)</script>\"' onload=x &amp;?", svg.Element(Svg + "title")!.Value);
        Assert.Contains(svg.Elements(Svg + "text"), t => t.Value == hostile[..30]);
        Assert.Equal("b\"><script>", (string?)svg.Attribute("id"));
    }

    [Fact]
    public void A_long_reason_is_cut_in_the_chart()
    {
        var svg = Parse(SvgCharts.Bars("b", "t", "d", [new ChartBar(new string('x', 100), 1)]));

        var label = svg.Elements(Svg + "text").First().Value;
        Assert.Equal(SvgCharts.MaxLabelLength, label.Length);
        Assert.EndsWith("…", label, StringComparison.Ordinal);
    }

    [Fact]
    public void Progress_counts_jobs_as_they_end_cumulatively_and_leaves_out_stopped_ones()
    {
        (DateTimeOffset, JobStatus)[] ended =
        [
            (Start.AddSeconds(10), JobStatus.Finished), (Start.AddSeconds(10), JobStatus.Exceptions),
            (Start.AddSeconds(20), JobStatus.Failed), (Start.AddSeconds(30), JobStatus.Stopped),
        ];

        var points = RunCharts.Progress(Start, Start.AddSeconds(60), ended);

        ProgressPoint[] expected =
            [new(Start, 0, 0), new(Start.AddSeconds(10), 2, 0), new(Start.AddSeconds(20), 2, 1), new(Start.AddSeconds(30), 2, 1), new(Start.AddSeconds(60), 2, 1)];
        Assert.Equal(expected, points);
    }

    [Fact]
    public void Progress_of_thousands_of_jobs_is_drawn_in_slices_of_time_and_ends_on_the_totals()
    {
        var ended = Enumerable.Range(1, 5_000).Select(i => (Start.AddMilliseconds(i * 37), i % 10 == 0 ? JobStatus.Failed : JobStatus.Finished)).ToList();
        var end = Start.AddMilliseconds(5_000 * 37);

        var points = RunCharts.Progress(Start, end, ended);

        Assert.True(points.Count <= RunCharts.MaxPoints + 2);
        Assert.Equal(new ProgressPoint(end, 4_500, 500), points[^1]);
        Assert.All(points.Zip(points.Skip(1)), pair => Assert.True(pair.Second.Finished >= pair.First.Finished && pair.Second.At >= pair.First.At));
    }

    [Fact]
    public void Failure_reasons_are_counted_most_frequent_first_with_the_tail_summed()
    {
        var reasons = Enumerable.Range(0, 10).SelectMany(i => Enumerable.Repeat($"Reason{i}", i + 1));

        var bars = RunCharts.FailureReasons(reasons);

        Assert.Equal(RunCharts.MaxReasons, bars.Count);
        Assert.Equal(new ChartBar("Reason9", 10), bars[0]);
        Assert.Equal(new ChartBar("other reasons", 1 + 2 + 3), bars[^1]);
    }
}
