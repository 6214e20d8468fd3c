using Rehome.Protocol;
using Rehome.Security.Sids;
using Rehome.Security.Stores;

namespace Rehome.Agent.Platform.Windows;

/// <summary>The native seam of the local groups area's listing: NetLocalGroupEnum (members go through <see cref="ILocalAccountCalls"/>).</summary>
internal interface ILocalGroupCalls
{
    /// <summary>NetLocalGroupEnum level 0, every page: the names of this computer's local groups.</summary>
    int EnumerateGroups(out IReadOnlyList<string> names);
}

/// <summary>
/// The local groups area: every local group of this computer (Administrators included) with its members, by SID.
/// A write adds the missing members before it removes the extra ones, so that a group never lacks both the source
/// and the destination account; a member already there (1378) or already gone (1377) is what was asked, so the
/// rejoin's carry-over of the local Administrators and this area never fight. Errors are
/// <see cref="SecurityStoreException"/>s naming the call, Windows' code and its text.
/// </summary>
internal sealed class WindowsLocalGroups(ILocalAccountCalls accounts, ILocalGroupCalls groups, IWin32Errors errors) : IHolderStore
{
    private const int NoSuchAlias = 1376;
    private const int MemberNotInAlias = 1377;
    private const int MemberInAlias = 1378;
    private const int NoSuchMember = 1387;
    private const int NerrGroupNotFound = 2220;

    [System.Runtime.Versioning.SupportedOSPlatform("windows")]
    public static OpenedArea Open() =>
        new(ReaclArea.LocalGroups, null, [], [], new WindowsLocalGroups(new NativeLocalAccountCalls(), new NativeLocalGroupCalls(), NativeWin32Errors.Instance));

    public IEnumerable<string> EnumerateItems()
    {
        Check(groups.EnumerateGroups(out var names), "", "NetLocalGroupEnum");
        return names.Order(StringComparer.OrdinalIgnoreCase);
    }

    public IReadOnlyList<SecurityIdentifier> ReadHolders(string item)
    {
        Check(accounts.GetGroupMembers(item, out var members), item, $"NetLocalGroupGetMembers({item})");
        return [.. members.Select(SecurityIdentifier.Parse)];
    }

    public int MaxHolders(string item) => int.MaxValue;

    public void WriteHolders(string item, IReadOnlyList<SecurityIdentifier> holders) => HolderChanges.Apply(ReadHolders(item), holders,
        added =>
        {
            var status = accounts.AddGroupMember(item, added.ToString());
            Check(status == MemberInAlias ? WindowsErrors.Success : status, item, $"NetLocalGroupAddMembers({item}, {added})");
        },
        removed =>
        {
            var status = accounts.RemoveGroupMember(item, removed.ToString());
            Check(status == MemberNotInAlias ? WindowsErrors.Success : status, item, $"NetLocalGroupDelMembers({item}, {removed})");
        });

    private void Check(int status, string item, string call)
    {
        if (status != WindowsErrors.Success)
        {
            var message = WindowsErrors.Describe(errors, status, call)
                + (status == NoSuchMember ? " (a domain account cannot be resolved: is the device in its domain and a domain controller reachable?)" : "");
            throw new SecurityStoreException(KindOf(status), item, message);
        }
    }

    internal static SecurityStoreErrorKind KindOf(int status) => status switch
    {
        WindowsErrors.AccessDenied => SecurityStoreErrorKind.AccessDenied,
        NoSuchAlias or NerrGroupNotFound => SecurityStoreErrorKind.NotFound,
        _ => SecurityStoreErrorKind.Other,
    };
}

/// <summary>How a Windows holder area makes a list of holders exact: one call per holder that differs.</summary>
internal static class HolderChanges
{
    /// <summary>Adds the missing holders first, then removes the extra ones, so the item never lacks both the source and the destination.</summary>
    public static void Apply(IReadOnlyList<SecurityIdentifier> current, IReadOnlyList<SecurityIdentifier> target,
        Action<SecurityIdentifier> add, Action<SecurityIdentifier> remove)
    {
        foreach (var added in target.Except(current))
        {
            add(added);
        }
        foreach (var removed in current.Except(target))
        {
            remove(removed);
        }
    }
}
