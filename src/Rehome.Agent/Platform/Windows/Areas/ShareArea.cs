using Rehome.Protocol;
using Rehome.Security.Stores;

namespace Rehome.Agent.Platform.Windows.Areas;

/// <summary>One share as NetShareEnum level 502 lists it.</summary>
/// <param name="Name">shi502_netname.</param>
/// <param name="Type">shi502_type (STYPE_*: the low byte is the kind, STYPE_SPECIAL marks administrative shares).</param>
/// <param name="HasDescriptor">Whether shi502_security_descriptor is set.</param>
internal sealed record ShareInfo(string Name, uint Type, bool HasDescriptor);

/// <summary>The native seam of the shares area: netapi32's share calls (0 is success, a NET_API_STATUS otherwise).</summary>
internal interface IShareCalls
{
    /// <summary>NetShareEnum level 502 on this computer, every page.</summary>
    int List(out IReadOnlyList<ShareInfo> shares);

    /// <summary>NetShareGetInfo level 502: the share's descriptor, self-relative; null when it has none.</summary>
    int GetDescriptor(string name, out byte[]? descriptor);

    /// <summary>NetShareSetInfo level 1501: replaces the share's descriptor.</summary>
    int SetDescriptor(string name, byte[] descriptor);
}

/// <summary>
/// The security descriptors of this computer's shares (<c>share:NAME</c>): who may connect to the share and with
/// what rights, independent of the folder's NTFS permissions. Administrative shares (<c>ADMIN$</c>, <c>C$</c>,
/// <c>IPC$</c>) and shares without a descriptor have nothing to migrate: they are left out of the walk and listed in
/// <see cref="Skipped"/>.
/// </summary>
internal sealed class ShareSecurityStore(IShareCalls calls, IWin32Errors errors) : NamedItemStore("share")
{
    internal const uint TypeSpecial = 0x80000000;
    internal const uint TypeIpc = 3;

    private readonly List<(string Name, string Reason)> skipped = [];

    /// <summary>The shares the last listing left out, and why.</summary>
    public IReadOnlyList<(string Name, string Reason)> Skipped => skipped;

    /// <summary>Why <paramref name="share"/> is not walked; null when it is.</summary>
    internal static string? SkipReason(ShareInfo share) =>
        (share.Type & TypeSpecial) != 0 || (share.Type & 0xFF) == TypeIpc
            ? "an administrative share: Windows gives it no descriptor of its own"
            : share.HasDescriptor ? null : "no security descriptor (Windows' default access applies)";

    protected override IEnumerable<string> ListNames()
    {
        AreaErrors.Check(errors, calls.List(out var shares), Root, "NetShareEnum(502)");
        skipped.Clear();
        foreach (var share in shares)
        {
            if (SkipReason(share) is { } reason)
            {
                skipped.Add((share.Name, reason));
            }
            else
            {
                yield return share.Name;
            }
        }
    }

    protected override byte[] Read(string name, string path)
    {
        AreaErrors.Check(errors, calls.GetDescriptor(name, out var descriptor), path, $"NetShareGetInfo({name}, 502)");
        return descriptor ?? throw new SecurityStoreException(SecurityStoreErrorKind.Other, path, $"{path}: the share has no security descriptor.");
    }

    protected override void Write(string name, string path, byte[] descriptor) =>
        AreaErrors.Check(errors, calls.SetDescriptor(name, descriptor), path, $"NetShareSetInfo({name}, 1501)");

    /// <summary>The shares area for a walk: every share with a descriptor of its own.</summary>
    public static OpenedArea Open(IShareCalls calls, IWin32Errors errors)
    {
        var store = new ShareSecurityStore(calls, errors);
        return new OpenedArea(ReaclArea.Shares, store, store.ItemPaths(), [], null);
    }
}
