using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using Microsoft.Win32;
using Rehome.Agent.Enrollment;
using Rehome.Security.Descriptors;
using Rehome.Security.Sddl;
using Rehome.Security.Sids;
using Rehome.Security.Stores;

namespace Rehome.Agent.Platform.Windows.SelfTest;

/// <summary>Privileges, account names, DPAPI, and security descriptors as Windows and Rehome.Security see them.</summary>
[SupportedOSPlatform("windows")]
internal sealed partial class SecurityProbes : ISelfTestProbes
{
    private const string ProbeSddl = "O:BAG:SYD:P(A;CI;KA;;;SY)(A;CI;KA;;;BA)(A;CI;KR;;;BU)";

    public IEnumerable<(string Name, Func<string> Run)> Probes(SelfTestContext context)
    {
        yield return ("token-privileges", TokenPrivileges);
        yield return ("lookup-account-sid", LookupAccountSid);
        yield return ("sddl-conversion", SddlConversion);
        yield return ("registry-key-security", RegistryKeySecurity);
        yield return ("dpapi-machine", DpapiMachine);
        yield return ("dpapi-agent-credential", DpapiAgentCredential);
    }

    private static string TokenPrivileges()
    {
        string[] privileges = ["SeShutdownPrivilege", "SeBackupPrivilege", "SeRestorePrivilege", "SeTakeOwnershipPrivilege"];
        foreach (var privilege in privileges)
        {
            ProcessPrivileges.Enable(privilege);
        }

        return string.Join(", ", privileges) + " enabled";
    }

    private static string LookupAccountSid()
    {
        var sid = WellKnownSids.LocalSystem.ToArray();
        int nameLength = 0, domainLength = 0;
        NativeMethods.LookupAccountSid(null, sid, null, ref nameLength, null, ref domainLength, out _);
        var name = new char[nameLength];
        var domain = new char[domainLength];
        if (!NativeMethods.LookupAccountSid(null, sid, name, ref nameLength, domain, ref domainLength, out var use))
        {
            throw NativeMethods.Failure(Marshal.GetLastPInvokeError(), "LookupAccountSid(S-1-5-18)");
        }

        return $@"S-1-5-18 is {new string(domain, 0, domainLength)}\{new string(name, 0, nameLength)} (use {use})";
    }

    /// <summary>Rehome.Security's SDDL parser and writer against Windows' own conversion, both ways.</summary>
    private static string SddlConversion()
    {
        if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(ProbeSddl, 1, out var native, out var length))
        {
            throw NativeMethods.Failure(Marshal.GetLastPInvokeError(), "ConvertStringSecurityDescriptorToSecurityDescriptor");
        }

        byte[] windows;
        try
        {
            windows = new byte[length];
            Marshal.Copy(native, windows, 0, (int)length);
        }
        finally
        {
            LocalFree(native);
        }

        var ours = SddlParser.Parse(ProbeSddl);
        if (!SecurityDescriptor.FromBinary(windows).Equals(ours))
        {
            throw new InvalidOperationException($"Windows made {SddlWriter.Write(SecurityDescriptor.FromBinary(windows))} of {ProbeSddl}.");
        }

        var back = new System.Security.AccessControl.RawSecurityDescriptor(ours.ToBinary(), 0).GetSddlForm(System.Security.AccessControl.AccessControlSections.All);
        return $"{ProbeSddl} → {length} bytes, same as Rehome.Security; back: {back}";
    }

    /// <summary>WindowsPathSecurityStore over WindowsSecurityStore: write a protected descriptor to a key, read it back.</summary>
    private static string RegistryKeySecurity()
    {
        using (Registry.LocalMachine.CreateSubKey(SelfTestKey.Path + @"\Secured"))
        {
        }

        var store = new WindowsPathSecurityStore(new WindowsSecurityStore(includeSacl: false));
        var path = $@"HKLM\{SelfTestKey.Path}\Secured";
        var wanted = SddlParser.Parse(ProbeSddl);
        store.WriteDescriptor(path, wanted.ToBinary());
        var read = SecurityDescriptor.FromBinary(store.ReadDescriptor(path));
        var children = store.EnumerateChildren($@"HKLM\{SelfTestKey.Path}").ToList();
        Registry.LocalMachine.DeleteSubKeyTree(SelfTestKey.Path, throwOnMissingSubKey: false);
        if (read.Owner != wanted.Owner || !Equals(read.Dacl, wanted.Dacl))
        {
            throw new InvalidOperationException($"Wrote {ProbeSddl}, read {SddlWriter.Write(read)}.");
        }

        return children.Contains(path, StringComparer.OrdinalIgnoreCase)
            ? $"wrote and read {SddlWriter.Write(read)}"
            : throw new InvalidOperationException($"{path} not among the children listed: {string.Join(", ", children)}.");
    }

    private static string DpapiMachine()
    {
        var secret = "offline join data"u8.ToArray();
        var sealedData = ProtectedData.Protect(secret, null, DataProtectionScope.LocalMachine);
        return ProtectedData.Unprotect(sealedData, null, DataProtectionScope.LocalMachine).AsSpan().SequenceEqual(secret)
            ? $"{sealedData.Length} bytes sealed and opened"
            : throw new CryptographicException("Unprotect gave other bytes.");
    }

    private static string DpapiAgentCredential()
    {
        var stored = AgentIdentityStore.Protect("agent credential");
        return stored.StartsWith("dpapi:", StringComparison.Ordinal) && AgentIdentityStore.Unprotect(stored) == "agent credential"
            ? "credential protected and read back"
            : throw new CryptographicException($"Stored as {stored[..Math.Min(6, stored.Length)]}…, not read back.");
    }

    [LibraryImport("advapi32.dll", SetLastError = true, StringMarshalling = StringMarshalling.Utf16)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool ConvertStringSecurityDescriptorToSecurityDescriptorW(string sddl, uint revision, out nint descriptor, out uint length);

    [LibraryImport("kernel32.dll")]
    private static partial nint LocalFree(nint memory);
}
