namespace Rehome.Agent.Platform.Windows;

/// <summary>
/// What <c>dsregcmd /status</c> says about the device's registration: the "Name : Value" lines of its Device State,
/// Device Details and Tenant Details sections. The output comes from outside the agent, so the parser takes only
/// what it recognises: YES/NO flags (anything else is "no"), identifiers only when they are GUIDs, and never more than
/// <see cref="MaxOutputChars"/> characters.
/// </summary>
internal sealed record DsregcmdStatus(bool AzureAdJoined, bool DomainJoined, bool EnterpriseJoined, string? DomainName, string? TenantId, string? DeviceId)
{
    /// <summary>dsregcmd writes a few kilobytes; more than this is not its status.</summary>
    public const int MaxOutputChars = 256 * 1024;

    private const int MaxValueChars = 256;

    public static DsregcmdStatus Parse(string? output)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var text = output is null ? "" : output.Length > MaxOutputChars ? output[..MaxOutputChars] : output;
        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine.Trim();
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            // Section frames ("+----+", "| Device State |") and blank lines have no "Name : Value".
            if (colon <= 0 || line.StartsWith('|') || line.StartsWith('+'))
            {
                continue;
            }

            var name = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            if (name.Length > 0 && value.Length <= MaxValueChars)
            {
                // The first occurrence wins: a later section never overrides the device state.
                values.TryAdd(name, value);
            }
        }

        return new DsregcmdStatus(
            Flag(values, "AzureAdJoined"),
            Flag(values, "DomainJoined"),
            Flag(values, "EnterpriseJoined"),
            values.TryGetValue("DomainName", out var domain) && domain.Length > 0 ? domain : null,
            Identifier(values, "TenantId"),
            Identifier(values, "DeviceId"));
    }

    private static bool Flag(Dictionary<string, string> values, string name) =>
        values.TryGetValue(name, out var value) && string.Equals(value, "YES", StringComparison.OrdinalIgnoreCase);

    private static string? Identifier(Dictionary<string, string> values, string name) =>
        values.TryGetValue(name, out var value) && Guid.TryParse(value, out var id) ? id.ToString("D") : null;
}
