using System.Runtime.CompilerServices;
using Rehome.Core.Validation;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Rehome.Cli;

/// <summary>
/// Nothing the server sends reaches the administrator's terminal raw: device names, OS versions, steps, log
/// lines and error details come from agents and other people, and an escape sequence or a bidirectional
/// override among them would recolour, retitle or reorder the screen. <see cref="Safe"/> shows each such
/// character as its escape (<c>\u001B</c>); every command's console neutralises whatever it renders the same
/// way, so a string printed without <see cref="Safe"/> is caught too.
/// </summary>
public static class Terminal
{
    private static readonly ConditionalWeakTable<IAnsiConsole, object> Protected = [];

    /// <summary>Text from the server as the terminal may show it.</summary>
    public static string Safe(string? text) => TextRules.Neutralise(text);

    /// <summary>Makes <paramref name="console"/> neutralise every text it renders (once per console).</summary>
    public static IAnsiConsole Protect(IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(console);
        if (Protected.TryAdd(console, new object()))
        {
            console.Pipeline.Attach(new NeutralisingHook());
        }
        return console;
    }

    private sealed class NeutralisingHook : IRenderHook
    {
        public IEnumerable<IRenderable> Process(RenderOptions options, IEnumerable<IRenderable> renderables) =>
            renderables.Select(r => r is Neutralised ? r : new Neutralised(r));
    }

    /// <summary>The renderable with the text of its segments neutralised; the console's own control codes pass.</summary>
    private sealed class Neutralised(IRenderable inner) : IRenderable
    {
        public Measurement Measure(RenderOptions options, int maxWidth) => inner.Measure(options, maxWidth);

        public IEnumerable<Segment> Render(RenderOptions options, int maxWidth) =>
            inner.Render(options, maxWidth).Select(s => s.IsControlCode || s.IsLineBreak || TextRules.IndexOfRefused(s.Text) < 0
                ? s
                : new Segment(Safe(s.Text), s.Style, s.Link));
    }
}
