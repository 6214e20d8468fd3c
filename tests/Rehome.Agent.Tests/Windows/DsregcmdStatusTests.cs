using Rehome.Agent.Platform.Windows;

namespace Rehome.Agent.Tests.Windows;

/// <summary>Outputs of <c>dsregcmd /status</c> as Windows 11 prints them (shortened where nothing is read).</summary>
internal static class DsregcmdSamples
{
    public const string HybridTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    public const string HybridDevice = "5a2c8e94-3f1d-4b7e-9c2a-0d6e8f1b3a57";

    public static string Hybrid => $"""
        +----------------------------------------------------------------------+
        | Device State                                                         |
        +----------------------------------------------------------------------+

                     AzureAdJoined : YES
                  EnterpriseJoined : NO
                      DomainJoined : YES
                        DomainName : CONTOSO
                   Virtual Desktop : NOT SET
                       Device Name : PC01.contoso.com

        +----------------------------------------------------------------------+
        | Device Details                                                       |
        +----------------------------------------------------------------------+

                          DeviceId : {HybridDevice}
                        Thumbprint : 9F3C1A2B4D5E6F708192A3B4C5D6E7F8091A2B3C
         DeviceCertificateValidity : [ 2025-03-01 09:12:44.000 UTC -- 2035-03-01 09:42:44.000 UTC ]
                    KeyContainerId : 0e4e7c1a-8b9d-4c2f-a1e3-5d6f7a8b9c0d
                       KeyProvider : Microsoft Platform Crypto Provider
                      TpmProtected : YES
                  DeviceAuthStatus : SUCCESS

        +----------------------------------------------------------------------+
        | Tenant Details                                                       |
        +----------------------------------------------------------------------+

                        TenantName : Contoso
                          TenantId : {HybridTenant}
                       AuthCodeUrl : https://login.microsoftonline.com/{HybridTenant}/oauth2/authorize
                    AccessTokenUrl : https://login.microsoftonline.com/{HybridTenant}/oauth2/token
                            MdmUrl : https://enrollment.manage.microsoft.com/enrollmentserver/discovery.svc

        +----------------------------------------------------------------------+
        | SSO State                                                            |
        +----------------------------------------------------------------------+

                        AzureAdPrt : YES
              AzureAdPrtUpdateTime : 2026-12-05 08:01:10.000 UTC
        """.ReplaceLineEndings("\r\n");

    public static string Workgroup => """
        +----------------------------------------------------------------------+
        | Device State                                                         |
        +----------------------------------------------------------------------+

                     AzureAdJoined : NO
                  EnterpriseJoined : NO
                      DomainJoined : NO
                       Device Name : PC01

        +----------------------------------------------------------------------+
        | Diagnostic Data                                                      |
        +----------------------------------------------------------------------+

             Diagnostics Reference : www.microsoft.com/aadjerrors
                      User Context : UN-ELEVATED User
        """;

    public static string EntraJoined(string tenant) => $"""
        +----------------------------------------------------------------------+
        | Device State                                                         |
        +----------------------------------------------------------------------+

                     AzureAdJoined : YES
                  EnterpriseJoined : NO
                      DomainJoined : NO
                       Device Name : FAB-PC01

        +----------------------------------------------------------------------+
        | Device Details                                                       |
        +----------------------------------------------------------------------+

                          DeviceId : 0b7d3f2e-6a1c-4e8b-9d5f-2c4a6e8b0d1f

        +----------------------------------------------------------------------+
        | Tenant Details                                                       |
        +----------------------------------------------------------------------+

                        TenantName : Fabrikam
                          TenantId : {tenant}
        """;
}

public sealed class DsregcmdStatusTests
{
    [Fact]
    public void A_hybrid_joined_device_shows_both_joins_its_tenant_and_its_device_id()
    {
        var status = DsregcmdStatus.Parse(DsregcmdSamples.Hybrid);

        Assert.Equal(new DsregcmdStatus(true, true, false, "CONTOSO", DsregcmdSamples.HybridTenant, DsregcmdSamples.HybridDevice), status);
    }

    [Fact]
    public void An_entra_joined_device_is_not_domain_joined()
    {
        var status = DsregcmdStatus.Parse(DsregcmdSamples.EntraJoined("22222222-2222-2222-2222-222222222222"));

        Assert.True(status.AzureAdJoined);
        Assert.False(status.DomainJoined);
        Assert.Equal("22222222-2222-2222-2222-222222222222", status.TenantId);
        Assert.Null(status.DomainName);
    }

    [Fact]
    public void A_workgroup_device_has_no_join_no_tenant_and_no_device_id()
    {
        Assert.Equal(new DsregcmdStatus(false, false, false, null, null, null), DsregcmdStatus.Parse(DsregcmdSamples.Workgroup));
    }

    [Fact]
    public void Nothing_at_all_reads_as_not_joined()
    {
        Assert.Equal(new DsregcmdStatus(false, false, false, null, null, null), DsregcmdStatus.Parse(null));
        Assert.Equal(new DsregcmdStatus(false, false, false, null, null, null), DsregcmdStatus.Parse(""));
    }

    [Fact]
    public void Values_that_are_not_yes_or_not_guids_are_not_taken()
    {
        var status = DsregcmdStatus.Parse("""
            AzureAdJoined : yes please
            DomainJoined : 1
            TenantId : 22222222-2222-2222-2222-222222222222'; Remove-Item C:\ -Recurse
            DeviceId : {not-a-guid}
            """);

        Assert.Equal(new DsregcmdStatus(false, false, false, null, null, null), status);
    }

    [Fact]
    public void The_first_value_of_a_name_wins_so_a_later_section_cannot_override_the_device_state()
    {
        var status = DsregcmdStatus.Parse("""
            AzureAdJoined : NO
            TenantId : 22222222-2222-2222-2222-222222222222
            AzureAdJoined : YES
            TenantId : 33333333-3333-3333-3333-333333333333
            """);

        Assert.False(status.AzureAdJoined);
        Assert.Equal("22222222-2222-2222-2222-222222222222", status.TenantId);
    }

    [Fact]
    public void Output_beyond_the_size_limit_is_not_read()
    {
        var padding = new string('x', DsregcmdStatus.MaxOutputChars);

        var status = DsregcmdStatus.Parse(padding + "\nAzureAdJoined : YES\n");

        Assert.False(status.AzureAdJoined);
    }

    [Fact]
    public void Upper_case_identifiers_come_back_in_the_canonical_lower_case_form()
    {
        var status = DsregcmdStatus.Parse("TenantId : 72F988BF-86F1-41AF-91AB-2D7CD011DB47");

        Assert.Equal(DsregcmdSamples.HybridTenant, status.TenantId);
    }
}
