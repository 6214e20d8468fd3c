using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Security.Principal;

namespace Rehome.Agent.Platform.Windows;

/// <summary>
/// The native seam of the sign-in block: account rights in the local security policy (LSA). Each member opens the
/// policy, calls, closes it, and answers with a Win32 error (LsaNtStatusToWinError), 0 for success.
/// </summary>
internal interface ILogonRights
{
    /// <summary>LsaEnumerateAccountRights: the rights <paramref name="sid"/> holds (none is success with an empty list).</summary>
    int Get(string sid, out IReadOnlyList<string> rights);

    /// <summary>LsaQueryInformationPolicy(PolicyAccountDomainInformation): this computer's SID, the prefix of its local accounts' SIDs.</summary>
    int GetComputerSid(out string? sid);

    /// <summary>LsaAddAccountRights.</summary>
    int Add(string sid, string right);

    /// <summary>LsaRemoveAccountRights (not all rights: only <paramref name="right"/>).</summary>
    int Remove(string sid, string right);
}

[SupportedOSPlatform("windows")]
internal sealed class NativeLogonRights : ILogonRights
{
    public int Get(string sid, out IReadOnlyList<string> rights)
    {
        var held = new List<string>();
        rights = held;
        return WithPolicy(NativeMethods.PolicyLookupNames, policy =>
        {
            var status = NativeMethods.LsaEnumerateAccountRights(policy, NativeLocalAccountCalls.Binary(sid), out var buffer, out var count);
            var error = (int)NativeMethods.LsaNtStatusToWinError(status);
            if (error != NativeMethods.Success)
            {
                // The out values are not written on a failure (LibraryImport does not zero them): nothing to free.
                // Found by the Wine stage, where freeing them crashed the process.
                return error == NativeMethods.ErrorFileNotFound ? NativeMethods.Success : error;
            }

            try
            {

                var size = Marshal.SizeOf<NativeMethods.LsaUnicodeString>();
                for (var i = 0; i < count; i++)
                {
                    var right = Marshal.PtrToStructure<NativeMethods.LsaUnicodeString>(buffer + (i * size));
                    held.Add(Marshal.PtrToStringUni(right.Buffer, right.Length / sizeof(char)));
                }

                return NativeMethods.Success;
            }
            finally
            {
                if (buffer != 0)
                {
                    _ = NativeMethods.LsaFreeMemory(buffer);
                }
            }
        });
    }

    public int GetComputerSid(out string? sid)
    {
        string? found = null;
        var status = WithPolicy(NativeMethods.PolicyViewLocalInformation, policy =>
        {
            var error = (int)NativeMethods.LsaNtStatusToWinError(NativeMethods.LsaQueryInformationPolicy(policy, NativeMethods.PolicyAccountDomainInformation, out var buffer));
            try
            {
                if (error == NativeMethods.Success)
                {
                    var info = Marshal.PtrToStructure<NativeMethods.PolicyAccountDomainInfo>(buffer);
                    found = info.DomainSid == 0 ? null : new SecurityIdentifier(info.DomainSid).Value;
                }

                return error;
            }
            finally
            {
                // Only a success wrote the buffer (see above).
                if (error == NativeMethods.Success && buffer != 0)
                {
                    _ = NativeMethods.LsaFreeMemory(buffer);
                }
            }
        });
        sid = found;
        return status;
    }

    public int Add(string sid, string right) =>
        WithPolicy(NativeMethods.PolicyLookupNames | NativeMethods.PolicyCreateAccount, policy =>
            WithRight(right, rights => NativeMethods.LsaAddAccountRights(policy, NativeLocalAccountCalls.Binary(sid), rights, 1)));

    public int Remove(string sid, string right) =>
        WithPolicy(NativeMethods.PolicyLookupNames, policy =>
            WithRight(right, rights => NativeMethods.LsaRemoveAccountRights(policy, NativeLocalAccountCalls.Binary(sid), false, rights, 1)));

    internal static int WithPolicy(uint access, Func<nint, int> call)
    {
        var attributes = new NativeMethods.LsaObjectAttributes { Length = (uint)Marshal.SizeOf<NativeMethods.LsaObjectAttributes>() };
        var opened = (int)NativeMethods.LsaNtStatusToWinError(NativeMethods.LsaOpenPolicy(0, attributes, access, out var policy));
        // As with every out value here: only a success wrote the handle.
        if (opened != NativeMethods.Success)
        {
            return opened;
        }

        try
        {
            return call(policy);
        }
        finally
        {
            _ = NativeMethods.LsaClose(policy);
        }
    }

    internal static int WithRight(string right, Func<NativeMethods.LsaUnicodeString[], uint> call)
    {
        var buffer = Marshal.StringToHGlobalUni(right);
        try
        {
            var bytes = (ushort)(right.Length * sizeof(char));
            var rights = new[] { new NativeMethods.LsaUnicodeString { Length = bytes, MaximumLength = (ushort)(bytes + sizeof(char)), Buffer = buffer } };
            return (int)NativeMethods.LsaNtStatusToWinError(call(rights));
        }
        finally
        {
            Marshal.FreeHGlobal(buffer);
        }
    }
}
