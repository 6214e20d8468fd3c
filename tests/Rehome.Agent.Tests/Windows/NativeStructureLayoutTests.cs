using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Rehome.Agent.Platform.Windows;

namespace Rehome.Agent.Tests.Windows;

/// <summary>Sizes and field offsets of the session branch's P/Invoke structures against the documented x64 layouts.</summary>
[SupportedOSPlatform("windows")]
public sealed class NativeStructureLayoutTests
{
    public static TheoryData<Type, int> Sizes() => new()
    {
        { typeof(NativeMethods.UserInfo1), 56 },
        { typeof(NativeMethods.UserInfo1003), 8 },
        { typeof(NativeMethods.LsaUnicodeString), 16 },
        { typeof(NativeMethods.LsaObjectAttributes), 48 },
        { typeof(NativeMethods.PolicyAccountDomainInfo), 24 },
        { typeof(NativeMethods.StartupInfo), 104 },
        { typeof(NativeMethods.ProcessInformation), 24 },
        { typeof(NativeMethods.CredUiInfo), 40 },
    };

    public static TheoryData<Type, string, int> Offsets() => new()
    {
        { typeof(NativeMethods.UserInfo1), nameof(NativeMethods.UserInfo1.Password), 8 },
        { typeof(NativeMethods.UserInfo1), nameof(NativeMethods.UserInfo1.PasswordAge), 16 },
        { typeof(NativeMethods.UserInfo1), nameof(NativeMethods.UserInfo1.Privilege), 20 },
        { typeof(NativeMethods.UserInfo1), nameof(NativeMethods.UserInfo1.HomeDirectory), 24 },
        { typeof(NativeMethods.UserInfo1), nameof(NativeMethods.UserInfo1.Comment), 32 },
        { typeof(NativeMethods.UserInfo1), nameof(NativeMethods.UserInfo1.Flags), 40 },
        { typeof(NativeMethods.UserInfo1), nameof(NativeMethods.UserInfo1.ScriptPath), 48 },
        { typeof(NativeMethods.LsaUnicodeString), nameof(NativeMethods.LsaUnicodeString.MaximumLength), 2 },
        { typeof(NativeMethods.LsaUnicodeString), nameof(NativeMethods.LsaUnicodeString.Buffer), 8 },
        { typeof(NativeMethods.LsaObjectAttributes), nameof(NativeMethods.LsaObjectAttributes.RootDirectory), 8 },
        { typeof(NativeMethods.LsaObjectAttributes), nameof(NativeMethods.LsaObjectAttributes.ObjectName), 16 },
        { typeof(NativeMethods.LsaObjectAttributes), nameof(NativeMethods.LsaObjectAttributes.Attributes), 24 },
        { typeof(NativeMethods.LsaObjectAttributes), nameof(NativeMethods.LsaObjectAttributes.SecurityDescriptor), 32 },
        { typeof(NativeMethods.LsaObjectAttributes), nameof(NativeMethods.LsaObjectAttributes.SecurityQualityOfService), 40 },
        { typeof(NativeMethods.PolicyAccountDomainInfo), nameof(NativeMethods.PolicyAccountDomainInfo.DomainSid), 16 },
        { typeof(NativeMethods.StartupInfo), nameof(NativeMethods.StartupInfo.Desktop), 16 },
        { typeof(NativeMethods.StartupInfo), nameof(NativeMethods.StartupInfo.X), 32 },
        { typeof(NativeMethods.StartupInfo), nameof(NativeMethods.StartupInfo.Flags), 60 },
        { typeof(NativeMethods.StartupInfo), nameof(NativeMethods.StartupInfo.ShowWindow), 64 },
        { typeof(NativeMethods.StartupInfo), nameof(NativeMethods.StartupInfo.Reserved2Size), 66 },
        { typeof(NativeMethods.StartupInfo), nameof(NativeMethods.StartupInfo.Reserved2), 72 },
        { typeof(NativeMethods.StartupInfo), nameof(NativeMethods.StartupInfo.StandardError), 96 },
        { typeof(NativeMethods.ProcessInformation), nameof(NativeMethods.ProcessInformation.ProcessId), 16 },
        { typeof(NativeMethods.ProcessInformation), nameof(NativeMethods.ProcessInformation.ThreadId), 20 },
        { typeof(NativeMethods.CredUiInfo), nameof(NativeMethods.CredUiInfo.Parent), 8 },
        { typeof(NativeMethods.CredUiInfo), nameof(NativeMethods.CredUiInfo.MessageText), 16 },
        { typeof(NativeMethods.CredUiInfo), nameof(NativeMethods.CredUiInfo.Banner), 32 },
    };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Each_structure_has_its_documented_x64_size(Type structure, int size)
    {
        Assert.Equal(size, Marshal.SizeOf(structure));
    }

    [Theory]
    [MemberData(nameof(Offsets))]
    public void Each_field_sits_at_its_documented_x64_offset(Type structure, string field, int offset)
    {
        Assert.Equal(offset, (int)Marshal.OffsetOf(structure, field));
    }
}
