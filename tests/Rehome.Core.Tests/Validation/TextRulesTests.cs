using Rehome.Core.Validation;

namespace Rehome.Core.Tests.Validation;

public class TextRulesTests
{
    [Theory]
    [InlineData("PC01\u0000", "U+0000")]
    [InlineData("PC\u001B[31mRED", "U+001B")]
    [InlineData("PC\u009B31m", "U+009B")]
    [InlineData("admin\u202Egnp.exe", "U+202E")]
    [InlineData("a\u2066b", "U+2066")]
    [InlineData("two\nlines", "U+000A")]
    public void A_name_with_a_control_bidi_or_broken_character_is_refused_and_the_character_named_by_its_code(string name, string code)
    {
        var violations = new RuleViolations();

        violations.Text("name", name, 100, "The name");

        var violation = Assert.Single(violations.Items);
        Assert.Equal(("name", "ControlCharacter"), (violation.Field, violation.Rule));
        Assert.Contains(code, violation.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(name, violation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unpaired_surrogate_is_refused_since_PostgreSQL_cannot_store_it()
    {
        var violations = new RuleViolations();

        violations.Text("name", new string(['a', (char)0xD800, 'b']), 100, "The name");

        Assert.Contains("U+D800", Assert.Single(violations.Items).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Contoso – Zürich 東京")]
    [InlineData("emoji 😀 pairs are fine")]
    [InlineData("عربي and עברית without overrides")]
    public void Ordinary_text_in_any_script_passes(string name)
    {
        var violations = new RuleViolations();

        violations.Text("name", name, 100, "The name");

        Assert.False(violations.Any);
    }

    [Fact]
    public void Multi_line_text_keeps_tabs_and_line_breaks_but_not_escapes()
    {
        var violations = new RuleViolations();

        violations.Text("text", "first\r\n\tsecond", 100, "The line", multiLine: true);
        Assert.False(violations.Any);
        violations.Text("text", "first\u001B[2J", 100, "The line", multiLine: true);

        Assert.Equal("ControlCharacter", Assert.Single(violations.Items).Rule);
    }

    [Fact]
    public void Text_longer_than_its_bound_is_refused_with_the_bound()
    {
        var violations = new RuleViolations();

        violations.Text("search", new string('a', 201), 200, "The search");

        var violation = Assert.Single(violations.Items);
        Assert.Equal("MaxLength", violation.Rule);
        Assert.Contains("200", violation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Neutralised_text_shows_each_refused_character_as_its_escape() =>
        Assert.Equal(@"PC\u001B[31m\u202Eexe\u0007 😀", TextRules.Neutralise("PC\u001B[31m\u202Eexe\u0007 😀"));

    [Fact]
    public void Fitted_text_always_passes_the_rule_it_is_fitted_to()
    {
        var violations = new RuleViolations();
        var text = "line\r\n\u001B[31m" + new string('x', 50) + "😀" + new string('y', 50);

        var fitted = TextRules.Fit(text, 62, multiLine: true);
        violations.Text("text", fitted, 62, "The text", multiLine: true);

        Assert.False(violations.Any, string.Join(" ", violations.Items.Select(v => v.Message)));
        Assert.StartsWith("line\r\n\\u001B[31m", fitted, StringComparison.Ordinal);
        Assert.EndsWith("…", fitted, StringComparison.Ordinal);
    }
}
