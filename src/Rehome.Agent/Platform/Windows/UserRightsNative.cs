using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Security.Principal;

namespace Rehome.Agent.Platform.Windows;

/// <summary>LsaEnumerateAccountsWithUserRight: marshalling only, through the sign-in block's policy and right helpers.</summary>
[SupportedOSPlatform("windows")]
internal sealed class NativeUserRightsCalls : IUserRightsCalls
{
    /// <summary>What LsaNtStatusToWinError makes of STATUS_NO_MORE_ENTRIES: nobody holds the right.</summary>
    private const int ErrorNoMoreItems = 259;

    public int AccountsWithRight(string right, out IReadOnlyList<string> sids)
    {
        var found = new List<string>();
        sids = found;
        var status = NativeLogonRights.WithPolicy(NativeMethods.PolicyLookupNames | NativeMethods.PolicyViewLocalInformation, policy =>
            NativeLogonRights.WithRight(right, names =>
            {
                var answer = NativeMethods.LsaEnumerateAccountsWithUserRight(policy, names, out var buffer, out var count);
                // As everywhere in LSA here: only a success wrote the out values.
                if (NativeMethods.LsaNtStatusToWinError(answer) == NativeMethods.Success && buffer != 0)
                {
                    try
                    {
                        // LSA_ENUMERATION_INFORMATION: one SID pointer each.
                        for (var i = 0; i < count; i++)
                        {
                            found.Add(new SecurityIdentifier(Marshal.ReadIntPtr(buffer, i * nint.Size)).Value);
                        }
                    }
                    finally
                    {
                        _ = NativeMethods.LsaFreeMemory(buffer);
                    }
                }

                return answer;
            }));
        return status == ErrorNoMoreItems ? NativeMethods.Success : status;
    }
}

/// <summary>advapi32's listing of a right's holders.</summary>
internal static partial class NativeMethods
{
    /// <summary><paramref name="buffer"/> is an array of LSA_ENUMERATION_INFORMATION allocated by LSA (free with LsaFreeMemory).</summary>
    [LibraryImport("advapi32.dll")]
    internal static partial uint LsaEnumerateAccountsWithUserRight(nint policy, LsaUnicodeString[] userRight, out nint buffer, out uint count);
}
