using System.Runtime.InteropServices;

namespace Rehome.Agent.Platform.Windows;

/// <summary>advapi32's LSA policy calls for account rights (the logon rights of the sign-in block).</summary>
internal static partial class NativeMethods
{
    /// <summary>POLICY_CREATE_ACCOUNT: LsaAddAccountRights creates the account's policy entry when it has none.</summary>
    internal const uint PolicyCreateAccount = 0x00000010;

    /// <summary>POLICY_LOOKUP_NAMES: every account rights call needs it.</summary>
    internal const uint PolicyLookupNames = 0x00000800;

    /// <summary>What LsaNtStatusToWinError makes of STATUS_OBJECT_NAME_NOT_FOUND: the SID holds no rights.</summary>
    internal const int ErrorFileNotFound = 2;

    /// <summary>LSA_UNICODE_STRING: lengths in bytes, without the terminator.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct LsaUnicodeString
    {
        public ushort Length;
        public ushort MaximumLength;
        public nint Buffer;
    }

    /// <summary>LSA_OBJECT_ATTRIBUTES: all zero but <see cref="Length"/> for LsaOpenPolicy.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct LsaObjectAttributes
    {
        public uint Length;
        public nint RootDirectory;
        public nint ObjectName;
        public uint Attributes;
        public nint SecurityDescriptor;
        public nint SecurityQualityOfService;
    }

    /// <summary>POLICY_VIEW_LOCAL_INFORMATION: reading the account domain (this computer's SID).</summary>
    internal const uint PolicyViewLocalInformation = 0x00000001;

    /// <summary>POLICY_INFORMATION_CLASS PolicyAccountDomainInformation.</summary>
    internal const int PolicyAccountDomainInformation = 5;

    /// <summary>POLICY_ACCOUNT_DOMAIN_INFO: this computer's name and SID (the prefix of every local account's SID).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct PolicyAccountDomainInfo
    {
        public LsaUnicodeString DomainName;
        public nint DomainSid;
    }

    /// <summary>Returns an NTSTATUS; <paramref name="systemName"/> 0 is this computer.</summary>
    [LibraryImport("advapi32.dll")]
    internal static partial uint LsaOpenPolicy(nint systemName, in LsaObjectAttributes attributes, uint desiredAccess, out nint policy);

    /// <summary><paramref name="buffer"/> is allocated by LSA (free with LsaFreeMemory).</summary>
    [LibraryImport("advapi32.dll")]
    internal static partial uint LsaQueryInformationPolicy(nint policy, int informationClass, out nint buffer);

    [LibraryImport("advapi32.dll")]
    internal static partial uint LsaClose(nint handle);

    [LibraryImport("advapi32.dll")]
    internal static partial uint LsaFreeMemory(nint buffer);

    [LibraryImport("advapi32.dll")]
    internal static partial uint LsaNtStatusToWinError(uint status);

    /// <summary><paramref name="rights"/> is an array of LSA_UNICODE_STRING allocated by LSA (free with LsaFreeMemory).</summary>
    [LibraryImport("advapi32.dll")]
    internal static partial uint LsaEnumerateAccountRights(nint policy, byte[] accountSid, out nint rights, out uint count);

    [LibraryImport("advapi32.dll")]
    internal static partial uint LsaAddAccountRights(nint policy, byte[] accountSid, LsaUnicodeString[] rights, uint count);

    [LibraryImport("advapi32.dll")]
    internal static partial uint LsaRemoveAccountRights(nint policy, byte[] accountSid, [MarshalAs(UnmanagedType.U1)] bool allRights, LsaUnicodeString[] rights, uint count);
}
