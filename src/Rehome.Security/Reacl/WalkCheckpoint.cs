using System.Text.Json;

namespace Rehome.Security.Reacl;

/// <summary>
/// The last item a walk finished (area index and path) with the counts up to it. The walk visits items in a fixed
/// order (pre-order, children by ordinal name), so everything up to that item is done.
/// </summary>
internal sealed record WalkCheckpoint
{
    public int AreaIndex { get; init; }

    public string Path { get; init; } = string.Empty;

    public long Seen { get; init; }

    public long Changed { get; init; }

    public long Failed { get; init; }

    public List<WalkError> Errors { get; init; } = [];

    public static WalkCheckpoint? Load(string? file)
    {
        if (file is null || !File.Exists(file))
        {
            return null;
        }

        return JsonSerializer.Deserialize<WalkCheckpoint>(File.ReadAllText(file))
            ?? throw new InvalidDataException($"{file} holds no checkpoint.");
    }

    // Written to a temporary file then renamed over the old one, so a crash leaves the old or the new checkpoint.
    public void Save(string file)
    {
        var temporary = file + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(this));
        File.Move(temporary, file, overwrite: true);
    }
}
