using System.Runtime.InteropServices;
using Rehome.Agent.Platform.Windows;

// The structures are declared inside the Windows-only NativeMethods; measuring their layout calls nothing of Windows.
#pragma warning disable CA1416

namespace Rehome.Agent.Tests.Windows;

/// <summary>
/// Every structure the Windows platform marshals, against the x64 layout the SDK headers give (sizes and field
/// offsets in bytes). The agent ships for win-x64 only, and the tests run on 64-bit Linux, where the layout rules
/// for these sequential structures are the same.
/// </summary>
public sealed class NativeLayoutTests
{
    [Fact]
    public void The_tests_run_in_a_64_bit_process_as_the_agent_does()
    {
        Assert.Equal(8, IntPtr.Size);
    }

    [Fact]
    public void DSROLE_PRIMARY_DOMAIN_INFO_BASIC_is_48_bytes_with_its_names_after_the_two_dwords()
    {
        Assert.Equal(48, Marshal.SizeOf<NativeMethods.DsRolePrimaryDomainInfo>());
        AssertOffsets<NativeMethods.DsRolePrimaryDomainInfo>(
            ("MachineRole", 0), ("Flags", 4), ("DomainNameFlat", 8), ("DomainNameDns", 16), ("DomainForestName", 24), ("DomainGuid", 32));
    }

    [Fact]
    public void DOMAIN_CONTROLLER_INFOW_is_80_bytes_with_the_guid_packed_after_the_address_type()
    {
        Assert.Equal(80, Marshal.SizeOf<NativeMethods.DomainControllerInfo>());
        AssertOffsets<NativeMethods.DomainControllerInfo>(
            ("DomainControllerName", 0), ("DomainControllerAddress", 8), ("DomainControllerAddressType", 16), ("DomainGuid", 20),
            ("DomainName", 40), ("DnsForestName", 48), ("Flags", 56), ("DcSiteName", 64), ("ClientSiteName", 72));
    }

    [Fact]
    public void NETLOGON_INFO_2_is_24_bytes_with_the_channel_status_after_the_dc_name()
    {
        Assert.Equal(24, Marshal.SizeOf<NativeMethods.NetlogonInfo2>());
        AssertOffsets<NativeMethods.NetlogonInfo2>(("Flags", 0), ("PdcConnectionStatus", 4), ("TrustedDcName", 8), ("TcConnectionStatus", 16));
    }

    [Fact]
    public void TOKEN_PRIVILEGES_with_one_privilege_is_16_bytes_with_its_luid_at_4()
    {
        Assert.Equal(16, Marshal.SizeOf<NativeMethods.TokenPrivilege>());
        AssertOffsets<NativeMethods.TokenPrivilege>(("Count", 0), ("Luid", 4), ("Attributes", 12));
    }

    [Fact]
    public void REASON_CONTEXT_is_32_bytes_with_its_reason_union_at_8()
    {
        Assert.Equal(32, Marshal.SizeOf<NativeMethods.ReasonContext>());
        AssertOffsets<NativeMethods.ReasonContext>(("Version", 0), ("Flags", 4), ("SimpleReasonString", 8));
    }

    [Fact]
    public void WTS_SESSION_INFOW_is_24_bytes_with_its_state_at_16()
    {
        Assert.Equal(24, Marshal.SizeOf<NativeMethods.WtsSessionInfo>());
        AssertOffsets<NativeMethods.WtsSessionInfo>(("SessionId", 0), ("WinStationName", 8), ("State", 16));
    }

    [Fact]
    public void Every_marshalled_structure_is_covered_by_a_layout_test()
    {
        var structures = typeof(NativeMethods).GetNestedTypes(System.Reflection.BindingFlags.NonPublic)
            .Where(t => t.IsValueType && !t.IsEnum)
            .Select(t => t.Name)
            .Order();

        // This class's own, and those of the accounts, LSA and session calls (NativeStructureLayoutTests).
        string[] covered = ["DomainControllerInfo", "DsRolePrimaryDomainInfo", "NetlogonInfo2", "ReasonContext", "TokenPrivilege", "WtsSessionInfo"];
        var sessionStructures = NativeStructureLayoutTests.Sizes().Select(row => ((Type)row[0]).Name);
        Assert.Equal(covered.Concat(sessionStructures).Order(), structures);
    }

    private static void AssertOffsets<T>(params (string Field, int Offset)[] expected)
        where T : struct
    {
        foreach (var (field, offset) in expected)
        {
            Assert.Equal((field, offset), (field, (int)Marshal.OffsetOf<T>(field)));
        }

        // No field is left unchecked.
        Assert.Equal(expected.Length, typeof(T).GetFields().Length);
    }
}
