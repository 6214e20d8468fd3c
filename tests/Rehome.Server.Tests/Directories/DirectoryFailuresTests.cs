using System.Net.Sockets;
using Rehome.Directory;
using Rehome.Directory.ActiveDirectory;
using Rehome.Directory.EntraId;
using Rehome.Server.Directories;

namespace Rehome.Server.Tests.Directories;

public sealed class DirectoryFailuresTests
{
    public static TheoryData<string, Exception, DirectoryFailureKind, string> Failures { get; } = new()
    {
        { "an unreachable directory", new DirectoryUnavailableException("The DC did not answer."), DirectoryFailureKind.Unreachable, "DirectoryUnavailable" },
        { "a throttling directory", new DirectoryUnavailableException("Graph throttles.", TimeSpan.FromSeconds(40)), DirectoryFailureKind.Throttled, "DirectoryUnavailable" },
        { "a network failure that escaped a client", new HttpRequestException("Connection refused."), DirectoryFailureKind.Unreachable, "DirectoryUnavailable" },
        { "a socket failure", new SocketException((int)SocketError.HostUnreachable), DirectoryFailureKind.Unreachable, "DirectoryUnavailable" },
        { "a timeout", new TimeoutException("LDAP bind timed out."), DirectoryFailureKind.Unreachable, "DirectoryUnavailable" },
        { "an HTTP client's timeout", new TaskCanceledException("Timed out.", new TimeoutException()), DirectoryFailureKind.Unreachable, "DirectoryUnavailable" },
        { "a refusing domain controller", new ActiveDirectoryException("Insufficient rights."), DirectoryFailureKind.Refused, "DirectoryRefused" },
        { "a refusing Graph", new EntraIdException("Authorization_RequestDenied."), DirectoryFailureKind.Refused, "DirectoryRefused" },
        { "a connection without the part it needs", new DirectoryNotConfiguredException("No Entra ID part."), DirectoryFailureKind.Refused, "DirectoryRefused" },
        { "a client missing its secret", Thrown(() => new EntraIdConnectionOptions { TenantId = "t", ClientId = "c" }.CreateCredential()), DirectoryFailureKind.Refused, "DirectoryRefused" },
        // Not the directory's answer: an EF context used twice, say. Counted against the retry window, not a refusal.
        { "an invalid operation of something else", Thrown(() => new List<int>().First()), DirectoryFailureKind.Defect, "DirectoryFailed" },
        { "a disposed object", new ObjectDisposedException("LdapConnection"), DirectoryFailureKind.Defect, "DirectoryFailed" },
        { "a bug", new NullReferenceException(), DirectoryFailureKind.Defect, "DirectoryFailed" },
        { "a bad argument", new ArgumentException("Bad filter."), DirectoryFailureKind.Defect, "DirectoryFailed" },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void Every_directory_failure_has_one_kind_one_code_and_its_reason(string what, Exception error, DirectoryFailureKind kind, string code)
    {
        var failure = DirectoryFailures.Classify(error);

        Assert.True(failure.Kind == kind, $"{what}: {failure.Kind}, expected {kind}");
        Assert.Equal(code, failure.Code);
        Assert.Equal(error.Message, failure.Reason);
        Assert.Equal(kind is DirectoryFailureKind.Unreachable or DirectoryFailureKind.Throttled, failure.MayRetry);
    }

    private static Exception Thrown(Action action)
    {
        try
        {
            action();
        }
        catch (Exception e)
        {
            return e;
        }
        throw new InvalidOperationException("The action threw nothing.");
    }

    [Fact]
    public void A_throttling_directory_carries_the_wait_it_asked_for_and_an_outage_none()
    {
        Assert.Equal(TimeSpan.FromSeconds(40), DirectoryFailures.Classify(new DirectoryUnavailableException("Throttled.", TimeSpan.FromSeconds(40))).RetryAfter);
        Assert.Null(DirectoryFailures.Classify(new DirectoryUnavailableException("Down.")).RetryAfter);
    }
}
