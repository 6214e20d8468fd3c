using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using Rehome.Protocol;

namespace Rehome.Server.AgentUpdates;

/// <summary>Agent packages' settings. Bound from <c>Rehome:AgentUpdates</c>.</summary>
public sealed class AgentUpdateOptions
{
    public const string Section = "Rehome:AgentUpdates";

    /// <summary>
    /// The publishers whose signed packages the server accepts: each entry a PEM public key (ECDSA P-256 or RSA of
    /// 2048 bits or more) or the path of a .pem file. None: every upload is refused, saying so.
    /// </summary>
    public List<string> PublisherKeys { get; set; } = [];

    /// <summary>The largest package accepted (a self-contained agent is some 70 MiB).</summary>
    [Range(1024L, 1L << 30)]
    public long MaxPackageBytes { get; set; } = 128L << 20;

    /// <summary>The keys of <see cref="PublisherKeys"/>, read from the text or the file; entries that hold no key are reported at start.</summary>
    public IReadOnlyList<byte[]> ReadKeys() => [.. PublisherKeys.SelectMany(entry => PackageSignature.ReadPublicKeys(Pem(entry)))];

    internal static string? Pem(string entry) =>
        entry.Contains("-----BEGIN", StringComparison.Ordinal) ? entry : File.Exists(entry) ? File.ReadAllText(entry) : null;
}

/// <summary>A publisher key that holds no key stops the start, naming the entry: an administrator would otherwise learn it at the first upload.</summary>
public sealed class AgentUpdateOptionsRules : IValidateOptions<AgentUpdateOptions>
{
    public ValidateOptionsResult Validate(string? name, AgentUpdateOptions options)
    {
        var problems = options.PublisherKeys
            .Select((entry, i) => (entry, i))
            .Where(e => PackageSignature.ReadPublicKeys(AgentUpdateOptions.Pem(e.entry)).Count == 0)
            .Select(e => $"{AgentUpdateOptions.Section}:PublisherKeys:{e.i}: holds no ECDSA or RSA (2048 bits or more) public key in PEM (-----BEGIN PUBLIC KEY-----), nor the path of a file that does.")
            .ToList();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
