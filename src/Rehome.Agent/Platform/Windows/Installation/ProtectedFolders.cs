using Rehome.Security.Descriptors;
using Rehome.Security.Sddl;
using Rehome.Security.Sids;

namespace Rehome.Agent.Platform.Windows.Installation;

/// <summary>What the seam sees at a path: nothing, a file, a folder or a reparse point, and its owner and DACL.</summary>
/// <param name="IsDirectory">A folder (a junction to a folder is one too, with <paramref name="IsReparsePoint"/>).</param>
/// <param name="IsReparsePoint">A junction, symbolic link or mount point: the path leads somewhere else.</param>
/// <param name="Descriptor">The self-relative security descriptor with at least the owner and the DACL; empty for a reparse point (never followed) and when the agent may not read it.</param>
internal sealed record FolderFacts(bool IsDirectory, bool IsReparsePoint, byte[] Descriptor);

/// <summary>The few file system security calls the protected folders need, so that every decision is tested with a fake.</summary>
internal interface IFolderSecurity
{
    /// <summary>What is at <paramref name="path"/>, without following a reparse point; null when nothing is.</summary>
    FolderFacts? Inspect(string path);

    /// <summary>Creates the folder with <paramref name="descriptor"/> (owner and protected DACL) from the start.</summary>
    void Create(string path, byte[] descriptor);

    /// <summary>Sets the owner and the protected DACL of an existing folder (Windows passes the inheritable entries on to what is inside).</summary>
    void Apply(string path, byte[] descriptor);

    /// <summary>Everything inside <paramref name="folder"/>, at any depth, without following reparse points.</summary>
    IEnumerable<(string Path, FolderFacts Facts)> EnumerateContents(string folder);
}

/// <summary>Why a folder cannot be trusted, and what an administrator does about it.</summary>
public sealed record FolderRefusal(string Folder, string Problem, string Fix)
{
    public override string ToString() => $"{Folder}: {Problem} {Fix}";
}

/// <summary>
/// <c>%ProgramData%\Rehome</c> and its <c>Agent</c> (identity, journals), <c>staging</c> (join data) and <c>logs</c>
/// folders. ProgramData lets every user create folders and own them, so a folder that merely exists proves nothing:
/// a standard user could pre-create <c>staging</c>, read the offline join data or swap the provisioning package
/// SYSTEM installs. Each folder must be owned by BUILTIN\Administrators with a protected DACL that grants full control
/// to SYSTEM and Administrators only (inherited by everything inside), and be a real folder, not a junction.
/// The installer creates them so (<see cref="Ensure"/>); the agent checks them at every start (<see cref="Check"/>)
/// and refuses to run otherwise.
/// </summary>
internal sealed class ProtectedFolders(string root, IFolderSecurity security, IEnumerable<string>? extraFolders = null)
{
    /// <summary>Owner Administrators; protected DACL: SYSTEM and Administrators full control, this folder, subfolders and files.</summary>
    public const string Sddl = "O:BAD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)";

    private const uint FullControl = 0x001F01FF;
    private const AceFlags Inheritance = AceFlags.ObjectInherit | AceFlags.ContainerInherit;

    public static string DefaultRoot => Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.CommonApplicationData), "Rehome");

    public string Root => root;

    /// <summary>The root first (each folder is checked only after the one holding it).</summary>
    public IReadOnlyList<string> Folders { get; } =
    [
        root,
        Path.Combine(root, "Agent"),
        Path.Combine(root, "staging"),
        Path.Combine(root, "logs"),
        .. (extraFolders ?? []).Where(f => !string.Equals(Path.TrimEndingDirectorySeparator(f), Path.Combine(root, "Agent"), StringComparison.OrdinalIgnoreCase)),
    ];

    /// <summary>The descriptor every folder gets, in binary form.</summary>
    public static byte[] Descriptor() => SddlParser.Parse(Sddl).ToBinary();

    /// <summary>Every folder that is missing or not exactly as it must be; empty when the agent may start.</summary>
    public IReadOnlyList<FolderRefusal> Check()
    {
        var refusals = new List<FolderRefusal>();
        foreach (var folder in Folders)
        {
            if (Judge(folder, security.Inspect(folder)) is { } refusal)
            {
                refusals.Add(refusal);
            }
        }

        return refusals;
    }

    /// <summary>
    /// Creates the missing folders protected and repairs the owner and DACL of existing ones that an administrator or
    /// SYSTEM owns (an older agent created them with ProgramData's inherited ACL). A folder owned by anybody else, a
    /// file or a junction in its place is refused: what is inside cannot be trusted and an administrator must look at
    /// it and delete it. Returns what is still wrong (empty on success).
    /// </summary>
    public IReadOnlyList<FolderRefusal> Ensure()
    {
        var descriptor = Descriptor();
        var refusals = new List<FolderRefusal>();
        foreach (var folder in Folders)
        {
            if (refusals.Any(r => folder.StartsWith(r.Folder + Path.DirectorySeparatorChar, StringComparison.OrdinalIgnoreCase)))
            {
                // Never create inside a folder that is refused: it may be a junction to anywhere.
                continue;
            }

            var facts = security.Inspect(folder);
            if (facts is null)
            {
                security.Create(folder, descriptor);
                continue;
            }

            if (Judge(folder, facts) is not { } refusal)
            {
                continue;
            }

            if (facts.IsDirectory && !facts.IsReparsePoint && IsTrustedOwner(ReadOwner(facts.Descriptor))
                && FirstUntrustedEntry(folder) is null)
            {
                security.Apply(folder, descriptor);
                continue;
            }

            var detail = facts.IsDirectory && !facts.IsReparsePoint && FirstUntrustedEntry(folder) is { } entry
                ? $" It holds {entry}, which somebody other than SYSTEM or Administrators owns, or which is a link."
                : "";
            refusals.Add(refusal with { Fix = $"Look at what it holds, delete it, then install again.{detail}" });
        }

        return refusals;
    }

    /// <summary>Null when <paramref name="facts"/> describe a folder exactly as it must be.</summary>
    internal static FolderRefusal? Judge(string folder, FolderFacts? facts)
    {
        const string reinstall = "Run 'rehome-agent install' as Administrator to create it protected.";
        if (facts is null)
        {
            return new FolderRefusal(folder, "is missing.", reinstall);
        }

        if (facts.IsReparsePoint)
        {
            return new FolderRefusal(folder, "is a junction or symbolic link, not a folder: it could lead the agent anywhere.", "Delete the link (rmdir), then run 'rehome-agent install' as Administrator.");
        }

        if (!facts.IsDirectory)
        {
            return new FolderRefusal(folder, "is a file, not a folder.", "Delete it, then run 'rehome-agent install' as Administrator.");
        }

        if (facts.Descriptor.Length == 0)
        {
            return new FolderRefusal(folder, "denies the agent even reading its owner and permissions: somebody else controls it.", "Take ownership as Administrator (takeown /f), look at what it holds, delete it, then run 'rehome-agent install'.");
        }

        SecurityDescriptor descriptor;
        try
        {
            descriptor = SecurityDescriptor.FromBinary(facts.Descriptor);
        }
        catch (Rehome.Security.SecurityFormatException e)
        {
            return new FolderRefusal(folder, $"has a security descriptor that cannot be read ({e.Message}).", reinstall);
        }

        const string repair = "If an administrator created it, run 'rehome-agent install' as Administrator to repair it; otherwise delete it first.";
        if (descriptor.Owner != WellKnownSids.BuiltinAdministrators)
        {
            return new FolderRefusal(folder, $"is owned by {descriptor.Owner?.ToString() ?? "nobody"}, not by BUILTIN\\Administrators (S-1-5-32-544): whoever owns it can change its permissions.", repair);
        }

        if (descriptor.Dacl is not { } dacl)
        {
            return new FolderRefusal(folder, "has no DACL (everyone has full access).", repair);
        }

        if ((descriptor.Control & ControlFlags.DaclProtected) == 0)
        {
            return new FolderRefusal(folder, "inherits permissions from its parent (its DACL is not protected), so ProgramData's user rights reach it.", repair);
        }

        var system = 0;
        var administrators = 0;
        foreach (var ace in dacl.Aces)
        {
            var exact = ace.Type == AceType.AccessAllowed && ace.Flags == Inheritance && ace.AccessMask == FullControl;
            if (exact && ace.Sid == WellKnownSids.LocalSystem)
            {
                system++;
            }
            else if (exact && ace.Sid == WellKnownSids.BuiltinAdministrators)
            {
                administrators++;
            }
            else
            {
                return new FolderRefusal(folder, $"has an access entry beyond SYSTEM and Administrators: {SddlWriter.WriteAce(ace)}.", repair);
            }
        }

        return system == 1 && administrators == 1
            ? null
            : new FolderRefusal(folder, "does not grant exactly SYSTEM and Administrators full control (inherited by subfolders and files).", repair);
    }

    /// <summary>A file or folder inside that a user planted (owns) or a link: repairing the folder's DACL would not make it safe.</summary>
    private string? FirstUntrustedEntry(string folder) => security.EnumerateContents(folder)
        .Where(entry => entry.Facts.IsReparsePoint || !IsTrustedOwner(ReadOwner(entry.Facts.Descriptor)))
        .Select(entry => entry.Path)
        .FirstOrDefault();

    private static SecurityIdentifier? ReadOwner(byte[] descriptor)
    {
        try
        {
            return SecurityDescriptor.FromBinary(descriptor).Owner;
        }
        catch (Rehome.Security.SecurityFormatException)
        {
            return null;
        }
    }

    private static bool IsTrustedOwner(SecurityIdentifier? owner) =>
        owner == WellKnownSids.BuiltinAdministrators || owner == WellKnownSids.LocalSystem;
}
