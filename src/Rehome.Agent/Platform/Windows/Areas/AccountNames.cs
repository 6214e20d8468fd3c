using Rehome.Security.Sids;
using Rehome.Security.Stores;

namespace Rehome.Agent.Platform.Windows.Areas;

/// <summary>The native seam for account names on this computer (0 is success, a Win32 error otherwise).</summary>
internal interface IAccountNames
{
    /// <summary>LookupAccountNameW: the SID of <c>DOMAIN\name</c>, <c>name</c> or <c>name@domain</c>.</summary>
    int SidOf(string accountName, out string? sid);

    /// <summary>LookupAccountSidW: <c>DOMAIN\name</c>.</summary>
    int NameOf(string sid, out string? accountName);
}

/// <summary>Run-as accounts resolved for an item, failures as the item's <see cref="SecurityStoreException"/>.</summary>
internal static class AccountLookup
{
    /// <summary>
    /// The SID <paramref name="account"/> names; one that does not resolve (a source account the device can no
    /// longer look up) fails the item only.
    /// </summary>
    public static SecurityIdentifier Sid(IAccountNames names, IWin32Errors errors, string item, string account)
    {
        var code = names.SidOf(account, out var sid);
        if (code != WindowsErrors.Success || sid is null || !SecurityIdentifier.TryParse(sid, out var parsed) || parsed is null)
        {
            var failure = AreaErrors.Failure(errors, code == WindowsErrors.Success ? AreaErrors.NoneMapped : code, item, $"LookupAccountName({account})");
            throw new SecurityStoreException(failure.Kind, item, $"{item}: the account it runs as cannot be resolved: {failure.Message}");
        }

        return parsed;
    }

    /// <summary><c>DOMAIN\name</c> of <paramref name="sid"/>.</summary>
    public static string Name(IAccountNames names, IWin32Errors errors, string item, SecurityIdentifier sid)
    {
        var code = names.NameOf(sid.ToString(), out var name);
        return code == WindowsErrors.Success && !string.IsNullOrEmpty(name)
            ? name
            : throw AreaErrors.Failure(errors, code == WindowsErrors.Success ? AreaErrors.NoneMapped : code, item, $"LookupAccountSid({sid})");
    }
}
