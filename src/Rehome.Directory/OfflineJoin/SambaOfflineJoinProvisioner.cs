using System.Diagnostics;
using System.Globalization;
using Rehome.Directory.ActiveDirectory;

namespace Rehome.Directory.OfflineJoin;

/// <summary>Where and how Samba's <c>net</c> runs for offline join provisioning.</summary>
public sealed record SambaOfflineJoinOptions
{
    /// <summary>
    /// The <c>net</c> program (Samba 4.15 or later). <c>net</c> locates the domain's DCs through DNS, so it
    /// must run where DNS resolves the destination domain; a wrapper that runs it there also fits.
    /// </summary>
    public string NetCommand { get; init; } = "net";

    /// <summary>A specific DC (DNS name) to provision on; any DC of the domain when null.</summary>
    public string? DomainController { get; init; }

    /// <summary>How long one provisioning may take before it is abandoned.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);
}

/// <summary>
/// <see cref="IOfflineJoinProvisioner"/> for Linux servers: Samba's <c>net offlinejoin provision</c>. Checks
/// that Samba does not make (OU exists, name free or reusable) are done first over LDAP, so the failures
/// read the same as on Windows. The password reaches <c>net</c> through its environment, never its command
/// line, and the data through its standard output, never a file.
/// </summary>
public sealed class SambaOfflineJoinProvisioner : IOfflineJoinProvisioner
{
    private readonly IActiveDirectoryDirectory destination;
    private readonly DirectoryCredential credential;
    private readonly SambaOfflineJoinOptions options;

    /// <param name="destination">The destination domain, for the checks and its names.</param>
    /// <param name="credential">An account allowed to create computer accounts in the target OUs.</param>
    /// <param name="options">Where <c>net</c> is; defaults when null.</param>
    public SambaOfflineJoinProvisioner(
        IActiveDirectoryDirectory destination,
        DirectoryCredential credential,
        SambaOfflineJoinOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(credential);
        this.destination = destination;
        this.credential = credential;
        this.options = options ?? new SambaOfflineJoinOptions();
    }

    public async Task<OfflineJoinResult> ProvisionAsync(OfflineJoinRequest request, CancellationToken cancellationToken = default)
    {
        var (refusal, domain) = await OfflineJoinChecks.CheckAsync(destination, request, cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }

        var scratch = System.IO.Directory.CreateTempSubdirectory("rehome-odj-");
        try
        {
            var configuration = Path.Combine(scratch.FullName, "smb.conf");
            await File.WriteAllTextAsync(configuration, ClientConfiguration(domain, scratch.FullName), cancellationToken);
            var (exitCode, output, errors) = await RunNetAsync(Arguments(request, domain, configuration), cancellationToken);
            return exitCode == 0 && LastLine(output) is { } base64 && IsBase64(base64)
                ? OfflineJoinResult.Provisioned(base64, request, domain)
                : Failure(request, domain, FirstMessage(output, errors, exitCode));
        }
        finally
        {
            // Samba's caches for this run; they hold no join secret, but nothing is left behind either way.
            scratch.Delete(true);
        }
    }

    private string[] Arguments(OfflineJoinRequest request, ActiveDirectoryDomain domain, string configuration)
    {
        var arguments = new List<string>
        {
            "offlinejoin", "provision",
            $"domain={domain.DnsName}",
            $"machine_name={request.MachineName}",
        };
        if (request.OrganizationalUnit is { } organizationalUnit)
        {
            arguments.Add($"machine_account_ou={organizationalUnit}");
        }

        if (options.DomainController is { } controller)
        {
            arguments.Add($"dcname={controller}");
        }

        if (request.ReuseExistingAccount)
        {
            arguments.Add("reuse");
        }

        arguments.AddRange(["printblob", "-U", credential.UserName, "-s", configuration]);
        return [.. arguments];
    }

    private static string ClientConfiguration(ActiveDirectoryDomain domain, string folder) => $"""
        [global]
        	workgroup = {domain.NetBiosName}
        	realm = {domain.DnsName.ToUpperInvariant()}
        	security = ads
        	private dir = {folder}
        	lock directory = {folder}
        	state directory = {folder}
        	cache directory = {folder}
        	log file = {folder}/log
        	load printers = no

        """;

    private async Task<(int ExitCode, string Output, string Errors)> RunNetAsync(string[] arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(options.NetCommand, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        // Samba reads the password from PASSWD when -U names only the user; and it authenticates as that
        // user, not with whatever Kerberos ticket this process may hold.
        start.Environment["PASSWD"] = credential.Password;
        start.Environment.Remove("KRB5CCNAME");
        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            throw new InvalidOperationException($"Samba's '{options.NetCommand}' cannot be started: {exception.Message}", exception);
        }

        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var errors = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            throw new DirectoryUnavailableException(
                $"Offline join provisioning did not finish within {options.Timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s.");
        }

        return (process.ExitCode, await output, await errors);
    }

    private static OfflineJoinResult Failure(OfflineJoinRequest request, ActiveDirectoryDomain domain, string message)
    {
        bool Says(string words) => message.Contains(words, StringComparison.OrdinalIgnoreCase);
        if (Says("failed to find DC") || Says("Connection refused") || Says("NT_STATUS_IO_TIMEOUT") || Says("NT_STATUS_HOST_UNREACHABLE"))
        {
            throw new DirectoryUnavailableException($"No DC of {domain.DnsName} could be reached for offline join provisioning: {message}");
        }

        var reason = Says("Insufficient access") || Says("ACCESS_DENIED") || Says("Access denied") ? OfflineJoinFailureReason.AccessDenied
            : Says("logon is invalid") || Says("LOGON_FAILURE") || Says("bad username") ? OfflineJoinFailureReason.LogonFailure
            : Says("No such object") || Says("NO_SUCH_OBJECT") ? OfflineJoinFailureReason.OrganizationalUnitMissing
            : Says("already exists") || Says("USER_EXISTS") ? OfflineJoinFailureReason.NameTaken
            : OfflineJoinFailureReason.Other;
        var words = reason switch
        {
            OfflineJoinFailureReason.AccessDenied =>
                $"Access denied: the connection's account may not create or reset the computer account '{request.MachineName}' in {request.OrganizationalUnit ?? "the Computers container"}.",
            OfflineJoinFailureReason.LogonFailure => $"{domain.DnsName} rejected the connection's credentials.",
            OfflineJoinFailureReason.OrganizationalUnitMissing => $"The organizational unit '{request.OrganizationalUnit}' does not exist.",
            OfflineJoinFailureReason.NameTaken => $"The name '{request.MachineName}' is already taken in {domain.DnsName}.",
            _ => "Offline join provisioning failed.",
        };
        return OfflineJoinResult.Failed(reason, $"{words} (Samba: {message})");
    }

    /// <summary>The first line that explains a failure: net's own error lines, not its debug noise.</summary>
    private static string FirstMessage(string output, string errors, int exitCode)
    {
        var lines = (errors + "\n" + output).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var explained = lines.FirstOrDefault(line => line.StartsWith("ads_print_error", StringComparison.Ordinal))
            ?? lines.FirstOrDefault(line => line.StartsWith("Failed", StringComparison.OrdinalIgnoreCase))
            ?? lines.FirstOrDefault(line => !IsBase64(line));
        return explained ?? $"net exited with code {exitCode.ToString(CultureInfo.InvariantCulture)} and no message.";
    }

    private static string? LastLine(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();

    private static bool IsBase64(string text)
    {
        if (text.Length < 16 || text.Length % 4 != 0)
        {
            return false;
        }

        var buffer = new byte[text.Length];
        return Convert.TryFromBase64String(text, buffer, out _);
    }
}
