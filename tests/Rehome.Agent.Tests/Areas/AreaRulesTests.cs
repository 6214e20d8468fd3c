using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Rehome.Agent.Platform.Windows.Areas;
using Rehome.Agent.Tests.Windows;
using Rehome.Security.Sids;
using Rehome.Security.Stores;

namespace Rehome.Agent.Tests.Areas;

[SupportedOSPlatform("windows")]
public sealed class AreaRulesTests
{
    [Theory]
    [InlineData(2, SecurityStoreErrorKind.NotFound)]
    [InlineData(1060, SecurityStoreErrorKind.NotFound)]
    [InlineData(1801, SecurityStoreErrorKind.NotFound)]
    [InlineData(2310, SecurityStoreErrorKind.NotFound)]
    [InlineData(unchecked((int)0x80070002), SecurityStoreErrorKind.NotFound)]
    [InlineData(5, SecurityStoreErrorKind.AccessDenied)]
    [InlineData(unchecked((int)0x80070005), SecurityStoreErrorKind.AccessDenied)]
    [InlineData(1314, SecurityStoreErrorKind.AccessDenied)]
    [InlineData(32, SecurityStoreErrorKind.InUse)]
    [InlineData(1072, SecurityStoreErrorKind.InUse)]
    [InlineData(1722, SecurityStoreErrorKind.Other)]
    [InlineData(1332, SecurityStoreErrorKind.Other)]
    [InlineData(unchecked((int)0x80041318), SecurityStoreErrorKind.Other)]
    public void Win32_and_com_errors_map_to_the_store_error_kinds(int code, SecurityStoreErrorKind kind)
    {
        Assert.Equal(kind, AreaErrors.KindOf(code));
    }

    [Fact]
    public void An_item_failure_names_the_item_the_call_the_number_and_windows_text()
    {
        var failure = AreaErrors.Failure(new FakeErrors(), 5, "service:Spooler", "OpenService(Spooler)");

        Assert.Equal("service:Spooler", failure.Path);
        Assert.Equal("service:Spooler: OpenService(Spooler) failed with error 5 (0x00000005): Access is denied.", failure.Message);
    }

    [Theory]
    [InlineData("S-1-5-18", null, RunAsKind.BuiltIn)]
    [InlineData("S-1-5-19", null, RunAsKind.BuiltIn)]
    [InlineData("S-1-5-20", null, RunAsKind.BuiltIn)]
    [InlineData("S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464", @"NT SERVICE\TrustedInstaller", RunAsKind.Virtual)]
    [InlineData("S-1-5-82-1-2-3-4-5", @"IIS APPPOOL\DefaultAppPool", RunAsKind.Virtual)]
    [InlineData("S-1-5-21-1-2-3-4001", @"FABRIKAM\gmsa-sync$", RunAsKind.Managed)]
    [InlineData("S-1-5-21-1-2-3-1105", @"FABRIKAM\alice", RunAsKind.User)]
    [InlineData("S-1-12-1-1-2-3-4", null, RunAsKind.User)]
    public void Run_as_accounts_are_told_apart_by_sid_and_by_the_managed_accounts_dollar(string sid, string? name, RunAsKind kind)
    {
        Assert.Equal(kind, RunAsAccounts.Classify(SecurityIdentifier.Parse(sid), name));
    }

    [Fact]
    public void Only_a_plain_user_logging_on_with_a_stored_password_is_refused()
    {
        Assert.Equal(RunAsAccounts.NeedsPassword, RunAsAccounts.Refusal(RunAsKind.User, logsOnWithPassword: true));
        Assert.Null(RunAsAccounts.Refusal(RunAsKind.User, logsOnWithPassword: false));
        Assert.Null(RunAsAccounts.Refusal(RunAsKind.Managed, logsOnWithPassword: true));
        Assert.Null(RunAsAccounts.Refusal(RunAsKind.BuiltIn, logsOnWithPassword: true));
        Assert.Null(RunAsAccounts.Refusal(RunAsKind.Virtual, logsOnWithPassword: true));
    }

    [Fact]
    public void The_area_structures_have_the_sdk_layout_on_x64()
    {
        Assert.Equal(72, Marshal.SizeOf<AreaNativeMethods.ShareInfo502>());
        Assert.Equal(64, (int)Marshal.OffsetOf<AreaNativeMethods.ShareInfo502>("SecurityDescriptor"));
        Assert.Equal(40, (int)Marshal.OffsetOf<AreaNativeMethods.ShareInfo502>("Path"));
        Assert.Equal(16, Marshal.SizeOf<AreaNativeMethods.ShareInfo1501>());
        Assert.Equal(8, (int)Marshal.OffsetOf<AreaNativeMethods.ShareInfo1501>("SecurityDescriptor"));
        Assert.Equal(56, Marshal.SizeOf<AreaNativeMethods.EnumServiceStatusProcess>());
        Assert.Equal(64, Marshal.SizeOf<AreaNativeMethods.QueryServiceConfig>());
        Assert.Equal(48, (int)Marshal.OffsetOf<AreaNativeMethods.QueryServiceConfig>("ServiceStartName"));
        Assert.Equal(24, Marshal.SizeOf<AreaNativeMethods.PrinterInfo4>());
        Assert.Equal(16, (int)Marshal.OffsetOf<AreaNativeMethods.PrinterInfo4>("Attributes"));
        Assert.Equal(8, Marshal.SizeOf<AreaNativeMethods.PrinterInfo3>());
        Assert.Equal(24, Marshal.SizeOf<AreaNativeMethods.PrinterDefaults>());
        Assert.Equal(16, (int)Marshal.OffsetOf<AreaNativeMethods.PrinterDefaults>("DesiredAccess"));
    }
}
