using Rehome.Core.Connections;

namespace Rehome.Core.Tests.Connections;

public class ConnectionRulesTests
{
    private static ConnectionInput AdDestination(Action<DestinationConnectionInput>? _ = null) => new()
    {
        Name = "Fabrikam",
        Role = ConnectionRole.Destination,
        Kind = ConnectionKind.ActiveDirectory,
        Destination = new DestinationConnectionInput
        {
            DomainDnsName = "fabrikam.example",
            TargetOu = "OU=Migrated,DC=fabrikam,DC=example",
            RejoinMethod = RejoinMethod.Offline,
        },
    };

    private static ConnectionInput EntraDestination(RejoinMethod method) => new()
    {
        Name = "Contoso cloud",
        Role = ConnectionRole.Destination,
        Kind = ConnectionKind.EntraId,
        Destination = new DestinationConnectionInput { RejoinMethod = method },
    };

    [Fact]
    public void A_complete_offline_Active_Directory_destination_is_valid() => Assert.Empty(ConnectionRules.Validate(AdDestination()));

    [Fact]
    public void A_destination_needs_a_DNS_name_and_a_distinguished_name_for_its_OU()
    {
        var input = AdDestination() with
        {
            Destination = new DestinationConnectionInput { DomainDnsName = "not a domain", TargetOu = "Migrated computers", RejoinMethod = RejoinMethod.Offline },
        };

        var violations = ConnectionRules.Validate(input);

        Assert.Contains(violations, v => v.Field == "destination.domainDnsName" && v.Rule == "DnsName");
        Assert.Contains(violations, v => v.Field == "destination.targetOu" && v.Rule == "DistinguishedName");
    }

    [Fact]
    public void An_online_join_needs_a_service_account_with_its_password()
    {
        var input = AdDestination() with
        {
            Destination = AdDestination().Destination! with { RejoinMethod = RejoinMethod.Online },
        };

        var violations = ConnectionRules.Validate(input);

        Assert.Contains(violations, v => v.Field == "destination.serviceAccountName");
        Assert.Contains(violations, v => v.Field == "destination.serviceAccountPassword");
    }

    [Fact]
    public void An_Entra_ID_offline_destination_needs_its_token_expiry_and_takes_its_package_as_an_upload_later()
    {
        var input = EntraDestination(RejoinMethod.Offline);

        var fields = ConnectionRules.Validate(input).Select(v => v.Field).ToList();

        Assert.Equal(["destination.bulkEnrollmentTokenExpiresAt"], fields);
    }

    [Fact]
    public void An_Entra_ID_online_destination_is_refused_because_Windows_needs_a_user_to_join_it()
    {
        var input = EntraDestination(RejoinMethod.Online);

        var violation = Assert.Single(ConnectionRules.Validate(input));

        Assert.Equal(("destination.rejoinMethod", ConnectionRules.EntraIdOnlineNotSupported), (violation.Field, violation.Rule));
        Assert.Contains("use Offline with a bulk enrollment package", violation.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ConnectionKind.EntraId, 1L, null)]
    [InlineData(ConnectionKind.EntraId, ConnectionRules.BulkEnrollmentPackageMaxBytes, null)]
    [InlineData(ConnectionKind.EntraId, 0L, "Required")]
    [InlineData(ConnectionKind.EntraId, ConnectionRules.BulkEnrollmentPackageMaxBytes + 1, "TooLarge")]
    [InlineData(ConnectionKind.ActiveDirectory, 100L, "NotEntraId")]
    [InlineData(ConnectionKind.HybridIdentity, 100L, "NotEntraId")]
    public void A_provisioning_package_is_for_Entra_ID_connections_and_neither_empty_nor_too_large(ConnectionKind kind, long length, string? rule)
    {
        var connection = new Connection { Name = "Contoso", Kind = kind, Role = ConnectionRole.Source };

        var violations = ConnectionRules.ValidatePackage(connection, length);

        Assert.Equal(rule is null ? [] : [("bulkEnrollmentPackage", rule)], violations.Select(v => (v.Field, v.Rule)).ToList());
    }

    [Theory]
    [InlineData("short1!A", "at least 14")]
    [InlineData("alllowercaseletters", "three of")]
    [InlineData("Breakglass-Admin-2026!", "account name")]
    public void The_break_glass_password_must_be_complex(string password, string expected)
    {
        var input = new ConnectionInput
        {
            Name = "Contoso",
            Role = ConnectionRole.Source,
            Kind = ConnectionKind.ActiveDirectory,
            Source = new SourceConnectionInput { BreakGlassAdministratorName = "breakglass", BreakGlassAdministratorPassword = password },
        };

        var violation = Assert.Single(ConnectionRules.Validate(input));

        Assert.Equal("PasswordComplexity", violation.Rule);
        Assert.Contains(expected, violation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_complex_break_glass_password_is_accepted()
    {
        var input = new ConnectionInput
        {
            Name = "Contoso",
            Role = ConnectionRole.Source,
            Kind = ConnectionKind.ActiveDirectory,
            Source = new SourceConnectionInput { BreakGlassAdministratorName = "rescue", BreakGlassAdministratorPassword = "Correct-Horse-42-Battery" },
        };

        Assert.Empty(ConnectionRules.Validate(input));
    }

    [Fact]
    public void The_source_Entra_ID_part_needs_GUIDs_and_a_client_secret()
    {
        var input = new ConnectionInput
        {
            Name = "Contoso",
            Role = ConnectionRole.Source,
            Kind = ConnectionKind.HybridIdentity,
            Source = new SourceConnectionInput { EntraId = new EntraIdInput { TenantId = "contoso", ClientId = Guid.NewGuid().ToString(), Enabled = true } },
        };

        var fields = ConnectionRules.Validate(input).Select(v => v.Field).ToList();

        Assert.Equal(["source.entraId.tenantId", "source.entraId.clientSecret"], fields);
    }

    [Fact]
    public void A_stored_secret_is_kept_when_an_update_leaves_it_out()
    {
        var input = new ConnectionInput
        {
            Name = "Contoso",
            Role = ConnectionRole.Source,
            Kind = ConnectionKind.HybridIdentity,
            Source = new SourceConnectionInput { EntraId = new EntraIdInput { TenantId = Guid.NewGuid().ToString(), ClientId = Guid.NewGuid().ToString() } },
        };
        var existing = new Connection
        {
            Name = "Contoso",
            Role = ConnectionRole.Source,
            EntraTenantId = input.Source.EntraId.TenantId,
            EntraClientId = input.Source.EntraId.ClientId,
            EntraClientSecretProtected = "cipher",
        };
        var otherTenant = new Connection { Name = "Contoso", Role = ConnectionRole.Source, EntraTenantId = Guid.NewGuid().ToString(), EntraClientId = existing.EntraClientId, EntraClientSecretProtected = "cipher" };

        Assert.Empty(ConnectionRules.Validate(input, existing));
        Assert.NotEmpty(ConnectionRules.Validate(input));
        Assert.Contains(ConnectionRules.Validate(input, otherTenant), v => v.Rule == "SecretForAnotherApp");
    }

    [Fact]
    public void The_role_of_a_connection_cannot_change()
    {
        var existing = new Connection { Name = "Fabrikam", Role = ConnectionRole.Source };

        Assert.Contains(ConnectionRules.Validate(AdDestination(), existing), v => v.Rule == "RoleIsFixed");
    }

    [Fact]
    public void Configuration_keys_are_random_and_match_only_their_own_hash()
    {
        var key = ConfigurationKeys.Generate();
        var other = ConfigurationKeys.Generate();

        Assert.StartsWith(ConfigurationKeys.Prefix, key, StringComparison.Ordinal);
        Assert.NotEqual(key, other);
        Assert.True(ConfigurationKeys.Matches(key, ConfigurationKeys.Hash(key)));
        Assert.False(ConfigurationKeys.Matches(other, ConfigurationKeys.Hash(key)));
        Assert.DoesNotContain(key, ConfigurationKeys.Hash(key), StringComparison.Ordinal);
    }

    [Fact]
    public void A_domain_controller_needs_a_host_name_and_a_service_account_to_bind_with()
    {
        var input = AdDestination() with
        {
            Destination = new DestinationConnectionInput
            {
                DomainDnsName = "fabrikam.example",
                TargetOu = "OU=Migrated,DC=fabrikam,DC=example",
                RejoinMethod = RejoinMethod.Offline,
                DomainController = "dc 01!",
            },
        };

        var violations = ConnectionRules.Validate(input);

        Assert.Contains(violations, v => v.Field == "destination.domainController" && v.Rule == "HostName");
        Assert.Contains(violations, v => v.Field == "destination.serviceAccountName" && v.Rule == "Required");
    }

    [Fact]
    public void A_source_domain_with_its_controller_and_account_is_valid_and_its_password_is_kept_on_update()
    {
        var input = new ConnectionInput
        {
            Name = "Contoso",
            Role = ConnectionRole.Source,
            Kind = ConnectionKind.ActiveDirectory,
            Source = new SourceConnectionInput { DomainDnsName = "contoso.example", DomainController = "10.0.0.5", ServiceAccountName = "CONTOSO\\svc-rehome" },
        };
        var stored = new Connection { Name = "Contoso", DomainController = "10.0.0.5", ServiceAccountName = "CONTOSO\\svc-rehome", ServiceAccountPasswordProtected = "protected" };

        Assert.Contains(ConnectionRules.Validate(input), v => v.Field == "source.serviceAccountPassword" && v.Rule == "Required");
        Assert.Empty(ConnectionRules.Validate(input, stored));
        Assert.Contains(ConnectionRules.Validate(input with { Source = input.Source! with { DomainController = "evil.example" } }, stored),
            v => v.Field == "source.serviceAccountPassword" && v.Rule == "SecretForAnotherServer");
        Assert.Contains(ConnectionRules.Validate(input with { Source = input.Source! with { UseLdaps = false, ServiceAccountPassword = "x" } }),
            v => v.Field == "source.useLdaps" && v.Rule == "LdapsRequired");
    }

    [Fact]
    public void A_destinations_entra_id_part_needs_guids_and_a_secret()
    {
        var input = AdDestination() with
        {
            Kind = ConnectionKind.HybridIdentity,
            Destination = new DestinationConnectionInput
            {
                DomainDnsName = "fabrikam.example",
                TargetOu = "OU=Migrated,DC=fabrikam,DC=example",
                RejoinMethod = RejoinMethod.Offline,
                EntraId = new EntraIdInput { TenantId = "fabrikam", ClientId = Guid.NewGuid().ToString(), Enabled = true },
            },
        };

        var violations = ConnectionRules.Validate(input);

        Assert.Contains(violations, v => v.Field == "destination.entraId.tenantId" && v.Rule == "Guid");
        Assert.Contains(violations, v => v.Field == "destination.entraId.clientSecret" && v.Rule == "Required");
    }
}
