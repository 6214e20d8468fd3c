using System.Text.Json;
using System.Text.RegularExpressions;

namespace Rehome.Agent.Platform.Windows;

/// <summary>A BitLocker volume with a drive letter and the ids of its numerical password (recovery password) protectors.</summary>
internal sealed record BitLockerVolume(string MountPoint, bool Fixed, IReadOnlyList<string> RecoveryPasswordIds);

/// <summary>
/// Reads the volumes from Win32_EncryptableVolume (through PowerShell, as JSON: locale-independent, unlike
/// manage-bde's text) and keeps what escrow needs. The recovery passwords themselves are never read: only the
/// protectors' ids (GetKeyProtectors), which are not secret.
/// </summary>
internal static partial class BitLockerInventory
{
    /// <summary>VolumeType 0 (operating system) and 1 (fixed data); 2 is removable.</summary>
    private const int OperatingSystemVolume = 0;
    private const int FixedDataVolume = 1;

    /// <summary>
    /// The PowerShell script that lists the volumes: drive letter, volume type and the ids of the numerical password
    /// protectors (KeyProtectorType 3), always as a JSON array.
    /// </summary>
    public const string Script =
        "$ErrorActionPreference = 'Stop'; "
        + "$found = @(foreach ($v in @(Get-CimInstance -Namespace 'root/cimv2/Security/MicrosoftVolumeEncryption' -ClassName 'Win32_EncryptableVolume')) { "
        + "$ids = @((Invoke-CimMethod -InputObject $v -MethodName 'GetKeyProtectors' -Arguments @{ KeyProtectorType = [uint32]3 }).VolumeKeyProtectorID | Where-Object { $_ }); "
        + "[pscustomobject]@{ DriveLetter = $v.DriveLetter; VolumeType = $v.VolumeType; RecoveryPasswordIds = $ids } }); "
        + "ConvertTo-Json -InputObject $found -Depth 3 -Compress";

    /// <summary>
    /// The volumes in <paramref name="output"/>; null when it is not the JSON the script writes. Entries without a
    /// drive letter, and ids that are not GUIDs, are left out (they could not be passed on safely).
    /// </summary>
    public static IReadOnlyList<BitLockerVolume>? Parse(string output)
    {
        var text = output.Trim().TrimStart('\uFEFF');
        if (text.Length == 0)
        {
            return [];
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            IEnumerable<JsonElement> entries = root.ValueKind switch
            {
                JsonValueKind.Array => [.. root.EnumerateArray()],
                JsonValueKind.Object => [root],
                _ => [],
            };
            return [.. entries.Where(e => e.ValueKind == JsonValueKind.Object).Select(Volume).OfType<BitLockerVolume>()];
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Volumes whose recovery passwords go to the directory: fixed ones with at least one.</summary>
    public static IReadOnlyList<BitLockerVolume> ToEscrow(IReadOnlyList<BitLockerVolume> volumes) =>
        [.. volumes.Where(v => v.Fixed && v.RecoveryPasswordIds.Count > 0)];

    /// <summary>Replaces anything shaped like a recovery password (eight groups of six digits) in tool output.</summary>
    public static string Redact(string text) => RecoveryPassword().Replace(text, "[recovery password]");

    private static BitLockerVolume? Volume(JsonElement entry)
    {
        var letter = entry.TryGetProperty("DriveLetter", out var l) && l.ValueKind == JsonValueKind.String ? l.GetString() : null;
        if (letter is null || !DriveLetter().IsMatch(letter))
        {
            return null;
        }

        var type = entry.TryGetProperty("VolumeType", out var t) && t.ValueKind == JsonValueKind.Number && t.TryGetInt32(out var n) ? n : (int?)null;
        var ids = entry.TryGetProperty("RecoveryPasswordIds", out var i) ? i : default;
        IEnumerable<JsonElement> values = ids.ValueKind switch
        {
            JsonValueKind.Array => [.. ids.EnumerateArray()],
            JsonValueKind.String => [ids],
            _ => [],
        };
        var guids = values
            .Where(v => v.ValueKind == JsonValueKind.String)
            .Select(v => Guid.TryParseExact(v.GetString(), "B", out var id) ? id.ToString("B").ToUpperInvariant() : null)
            .OfType<string>()
            .Distinct();
        return new BitLockerVolume(letter.ToUpperInvariant(), type is OperatingSystemVolume or FixedDataVolume, [.. guids]);
    }

    [GeneratedRegex("^[A-Za-z]:$")]
    private static partial Regex DriveLetter();

    [GeneratedRegex(@"\d{6}(-\d{6}){7}")]
    private static partial Regex RecoveryPassword();
}
