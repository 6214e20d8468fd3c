using CsCheck;
using Rehome.Directory.ActiveDirectory;
using Rehome.Directory.Identity;
using Rehome.Directory.OfflineJoin;

namespace Rehome.Directory.Tests.Properties;

/// <summary>
/// The checks before offline join provisioning, over generated names, OUs and directories: never an exception; a
/// refusal carries the reason the rules give and a message that says why without repeating an unprintable
/// character; what passes is exactly what the rules let through.
/// </summary>
public sealed class OfflineJoinCheckProperties
{
    private const string ExistingOu = "OU=Migrated,DC=fabrikam,DC=example";

    private static readonly string[] OrganizationalUnits = [ExistingOu, "OU=Missing,DC=fabrikam,DC=example", "", "OU=\u001b[2J,DC=x", "OU=\u202Eevil,DC=x"];

    /// <summary>A request, and who already holds its name in the directory (nobody, or an account of a kind, under "NAME$" or "NAME").</summary>
    private sealed record Case(OfflineJoinRequest Request, ActiveDirectoryAccountKind? Holder, bool HolderHasDollar);

    private static readonly Gen<Case> Cases = Gen.Select(
        Gen.OneOf(Gen.Char["ABCxyz019-_. $\u0000\u001b\n\u202E\u0663\u00e9"].Array[0, 18].Select(c => new string(c)), Gen.Const("PC-0001"), Gen.Const("12345")),
        Gen.Int[-1, OrganizationalUnits.Length - 1],
        Gen.Bool,
        Gen.Int[-1, 2],
        Gen.Bool,
        (name, ou, reuse, holder, dollar) => new Case(
            new OfflineJoinRequest(name, ou < 0 ? null : OrganizationalUnits[ou], reuse), holder < 0 ? null : (ActiveDirectoryAccountKind)holder, dollar));

    [Fact]
    public async Task Generated_requests_are_refused_for_the_reason_the_rules_give_saying_why_or_pass_exactly_when_they_may()
    {
        await Cases.SampleAsync(async input =>
        {
            var directory = new Directory(input);

            var (refusal, domain) = await OfflineJoinChecks.CheckAsync(directory, input.Request, CancellationToken.None);

            Assert.Equal(Directory.Domain, domain);
            Assert.Equal(Expected(input), refusal?.Failure);
            if (refusal is not null)
            {
                Assert.Null(refusal.Data);
                Assert.False(string.IsNullOrWhiteSpace(refusal.Message));
                Assert.True(!refusal.Message.Any(Unprintable), $"The refusal repeats an unprintable character: {Escaped(refusal.Message)}");
            }
        }, seed: "000000000051", iter: 3000, threads: 1, print: input => $"{Escaped(input.Request.MachineName)} in {Escaped(input.Request.OrganizationalUnit)}, reuse {input.Request.ReuseExistingAccount}, held by {input.Holder?.ToString() ?? "nobody"}");
    }

    [Theory]
    [InlineData("PC\u001b[2J", null, "'PC\\u001B[2J' is not a valid computer name")]
    [InlineData("PC01", "OU=\u202Eevil,DC=x", "'OU=\\u202Eevil,DC=x' does not exist")]
    public async Task A_refusal_shows_an_unprintable_character_of_the_name_or_the_ou_as_its_code(string name, string? ou, string shown)
    {
        var request = new OfflineJoinRequest(name, ou, ReuseExistingAccount: false);

        var (refusal, _) = await OfflineJoinChecks.CheckAsync(new Directory(new Case(request, null, false)), request, CancellationToken.None);

        Assert.Contains(shown, refusal!.Message, StringComparison.Ordinal);
    }

    /// <summary>The rules in order: a valid name, an OU that exists, a name free or held by a computer the policy reuses.</summary>
    private static OfflineJoinFailureReason? Expected(Case input)
    {
        var request = input.Request;
        if (!ComputerName.IsValid(request.MachineName))
        {
            return OfflineJoinFailureReason.InvalidName;
        }
        if (request.OrganizationalUnit is { } ou && ou != ExistingOu)
        {
            return OfflineJoinFailureReason.OrganizationalUnitMissing;
        }
        return input.Holder switch
        {
            null => null,
            ActiveDirectoryAccountKind.Computer when request.ReuseExistingAccount => null,
            _ => OfflineJoinFailureReason.NameTaken,
        };
    }

    private static bool Unprintable(char c) => char.IsControl(c) || c is (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069');

    private static string Escaped(string? text) => text is null ? "(none)" : string.Concat(text.Select(c => Unprintable(c) ? $"\\u{(int)c:x4}" : c.ToString()));

    /// <summary>A destination domain holding one OU and, for the case, one account with the request's name.</summary>
    private sealed class Directory(Case input) : IActiveDirectoryDirectory
    {
        public static readonly ActiveDirectoryDomain Domain = new("fabrikam.example", "FABRIKAM", "DC=fabrikam,DC=example", "S-1-5-21-1-2-3", ["dc1.fabrikam.example"], "2016", "dc1.fabrikam.example");

        public Task<ActiveDirectoryDomain> ReadDomainAsync(CancellationToken cancellationToken = default) => Task.FromResult(Domain);

        public Task<bool> ExistsAsync(string distinguishedName, CancellationToken cancellationToken = default) =>
            Task.FromResult(string.Equals(distinguishedName, ExistingOu, StringComparison.OrdinalIgnoreCase));

        public Task<ActiveDirectoryAccount?> FindAccountAsync(string name, CancellationToken cancellationToken = default) =>
            Task.FromResult(input.Holder is { } kind && name == input.Request.MachineName + (input.HolderHasDollar ? "$" : "")
                ? new ActiveDirectoryAccount(kind, $"CN={input.Request.MachineName},{ExistingOu}", "S-1-5-21-1-2-3-1105", name, null, name, Guid.Empty)
                : null);

        public Task<ConnectionTestResult> TestConnectionAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public IAsyncEnumerable<ActiveDirectoryAccount> ListAccountsAsync(ActiveDirectoryAccountKind kind, string? searchBase = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public IAsyncEnumerable<ActiveDirectoryComputer> ListComputersAsync(string organizationalUnit, bool includeChildOrganizationalUnits = true, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public Task<ActiveDirectoryComputer?> FindComputerAsync(string name, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<ComputerAccountResult> EnsureComputerAccountAsync(ComputerAccountRequest request, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public Task SetComputerPasswordAsync(string distinguishedName, string password, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public IAsyncEnumerable<DirectoryIdentity> ListIdentitiesAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();
    }
}
