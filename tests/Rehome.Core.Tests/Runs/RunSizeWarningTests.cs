using Rehome.Core.Runs;

namespace Rehome.Core.Tests.Runs;

public class RunSizeWarningTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(5_000)]
    public void A_selection_up_to_the_advised_5000_mappings_gets_no_warning(int mappings) =>
        Assert.Null(RunRules.SizeWarning(mappings));

    [Fact]
    public void A_selection_above_5000_is_warned_with_the_advice_and_why_it_is_still_allowed()
    {
        var warning = RunRules.SizeWarning(5_001);

        Assert.NotNull(warning);
        Assert.Contains("5,001 mappings", warning, StringComparison.Ordinal);
        Assert.Contains("advises at most 5,000", warning, StringComparison.Ordinal);
        Assert.Contains("up to 50,000", warning, StringComparison.Ordinal);
        Assert.Contains("docs/benchmarks.md", warning, StringComparison.Ordinal);
    }
}
