using Rehome.Agent.Platform.Windows.Installation;
using Rehome.Security.Sddl;

namespace Rehome.Agent.Tests.Windows;

/// <summary>Folders and files as a dictionary of descriptors, recording what the code under test changed.</summary>
internal sealed class FakeFolderSecurity : IFolderSecurity
{
    public Dictionary<string, FolderFacts> Entries { get; } = new(StringComparer.OrdinalIgnoreCase);

    public List<string> Created { get; } = [];

    public List<string> Applied { get; } = [];

    public void Folder(string path, string sddl) => Entries[path] = new FolderFacts(IsDirectory: true, IsReparsePoint: false, SddlParser.Parse(sddl).ToBinary());

    public void File(string path, string sddl) => Entries[path] = new FolderFacts(IsDirectory: false, IsReparsePoint: false, SddlParser.Parse(sddl).ToBinary());

    public void Junction(string path) => Entries[path] = new FolderFacts(IsDirectory: true, IsReparsePoint: true, []);

    public FolderFacts? Inspect(string path) => Entries.GetValueOrDefault(path);

    public void Create(string path, byte[] descriptor)
    {
        Created.Add(path);
        Entries[path] = new FolderFacts(true, false, descriptor);
    }

    public void Apply(string path, byte[] descriptor)
    {
        Applied.Add(path);
        Entries[path] = Entries[path] with { Descriptor = descriptor };
    }

    public IEnumerable<(string Path, FolderFacts Facts)> EnumerateContents(string folder) => Entries
        .Where(e => e.Key.StartsWith(folder + Path.DirectorySeparatorChar, StringComparison.OrdinalIgnoreCase))
        .Select(e => (e.Key, e.Value))
        .ToList();
}
