using Rehome.Security.Reacl;
using Rehome.Security.Sddl;
using Rehome.Security.Sids;
using Rehome.Security.Stores;

namespace Rehome.Agent.Tests.Areas;

/// <summary>Source and destination accounts, and a walk of an area's store with its undo journal.</summary>
internal static class AreaWalks
{
    public const string SourceUser = "S-1-5-21-1000-2000-3000-1105";
    public const string DestinationUser = "S-1-5-21-7000-8000-9000-2205";
    public const string SourceGroup = "S-1-5-21-1000-2000-3000-1201";
    public const string DestinationGroup = "S-1-5-21-7000-8000-9000-2301";

    public static SidMap Map => new([
        new(SecurityIdentifier.Parse(SourceUser), SecurityIdentifier.Parse(DestinationUser)),
        new(SecurityIdentifier.Parse(SourceGroup), SecurityIdentifier.Parse(DestinationGroup)),
    ]);

    public static byte[] Descriptor(string sddl) => SddlParser.Parse(sddl).ToBinary();

    /// <summary>A descriptor granting the source user (and group) something, as an item to migrate has.</summary>
    public static byte[] Granted => Descriptor($"O:BAG:SYD:(A;;0x1f01ff;;;BA)(A;;0x1301bf;;;{SourceGroup})(A;;0x1200a9;;;{SourceUser})");

    public static byte[] Untouched => Descriptor("O:BAG:SYD:(A;;0x1f01ff;;;BA)(A;;0x1200a9;;;WD)");

    public static string Sddl(byte[] descriptor) => SddlWriter.Write(Rehome.Security.Descriptors.SecurityDescriptor.FromBinary(descriptor));

    /// <summary>Every item's descriptor, by path.</summary>
    public static Dictionary<string, byte[]> Snapshot(ISecurityStore store, IEnumerable<string> paths) =>
        paths.ToDictionary(p => p, store.ReadDescriptor, StringComparer.Ordinal);

    public static WalkResult Walk(ISecurityStore store, IReadOnlyList<string> roots, string journal) =>
        new SecurityWalker(store, Map, new TranslationOptions(), new WalkOptions { UndoJournalFile = journal }).Walk(roots, []);
}
