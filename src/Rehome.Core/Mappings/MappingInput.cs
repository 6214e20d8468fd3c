namespace Rehome.Core.Mappings;

/// <summary>A mapping as an administrator writes it (API body or CSV row).</summary>
public sealed record MappingInput
{
    public string? SourceDevice { get; init; }

    public string? DestinationName { get; init; }

    public string? DestinationOu { get; init; }

    public string? PrimaryUser { get; init; }

    public string? DestinationUser { get; init; }
}
