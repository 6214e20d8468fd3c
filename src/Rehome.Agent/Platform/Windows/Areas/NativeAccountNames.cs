using System.Runtime.Versioning;

namespace Rehome.Agent.Platform.Windows.Areas;

/// <summary>The real account name lookups on this computer: marshalling only.</summary>
[SupportedOSPlatform("windows")]
internal sealed class NativeAccountNames : IAccountNames
{
    public int SidOf(string accountName, out string? sid) => new NativeLocalAccountCalls().SidOfName(accountName, out sid);

    public int NameOf(string sid, out string? accountName)
    {
        var status = NativeLocalAccountCalls.AccountOfSid(sid, out var name, out var domain);
        accountName = status != NativeMethods.Success ? null : string.IsNullOrEmpty(domain) ? name : $@"{domain}\{name}";
        return status;
    }
}
