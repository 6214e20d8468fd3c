using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Rehome.Directory.Identity;

/// <summary>
/// Conversions between the binary SID that directories store (objectSid) and its string form, and the SID
/// Windows gives Entra ID objects. Windows' own SecurityIdentifier type is not available on Linux.
/// </summary>
public static class SecurityIdentifierText
{
    /// <summary>Formats a binary SID ("S-1-5-21-…").</summary>
    public static string FromBinary(ReadOnlySpan<byte> sid)
    {
        if (sid.Length < 8 || sid[0] != 1 || sid.Length != 8 + (4 * sid[1]))
        {
            throw new FormatException("Not a binary security identifier.");
        }

        var authority = 0L;
        for (var index = 2; index < 8; index++)
        {
            authority = (authority << 8) | sid[index];
        }

        var text = new StringBuilder("S-1-").Append(authority.ToString(CultureInfo.InvariantCulture));
        for (var index = 0; index < sid[1]; index++)
        {
            var subAuthority = BinaryPrimitives.ReadUInt32LittleEndian(sid[(8 + (4 * index))..]);
            text.Append('-').Append(subAuthority.ToString(CultureInfo.InvariantCulture));
        }

        return text.ToString();
    }

    /// <summary>Parses a string SID into its binary form.</summary>
    public static byte[] ToBinary(string sid)
    {
        ArgumentNullException.ThrowIfNull(sid);
        var parts = sid.Split('-');
        if (parts.Length < 3 || !parts[0].Equals("S", StringComparison.OrdinalIgnoreCase) || parts[1] != "1"
            || parts.Length - 3 > 15)
        {
            throw new FormatException($"'{sid}' is not a security identifier.");
        }

        var subAuthorityCount = parts.Length - 3;
        var binary = new byte[8 + (4 * subAuthorityCount)];
        binary[0] = 1;
        binary[1] = (byte)subAuthorityCount;
        var authority = long.Parse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture);
        for (var index = 7; index >= 2; index--)
        {
            binary[index] = (byte)(authority & 0xFF);
            authority >>= 8;
        }

        for (var index = 0; index < subAuthorityCount; index++)
        {
            var subAuthority = uint.Parse(parts[3 + index], NumberStyles.None, CultureInfo.InvariantCulture);
            BinaryPrimitives.WriteUInt32LittleEndian(binary.AsSpan(8 + (4 * index)), subAuthority);
        }

        return binary;
    }

    /// <summary>
    /// The SID Windows uses for an Entra ID user or group on a joined device: S-1-12-1 followed by the
    /// object id's 16 bytes read as four little-endian 32-bit numbers.
    /// </summary>
    public static string FromEntraObjectId(Guid objectId)
    {
        Span<byte> bytes = stackalloc byte[16];
        objectId.TryWriteBytes(bytes);
        var text = new StringBuilder("S-1-12-1");
        for (var index = 0; index < 4; index++)
        {
            var part = BinaryPrimitives.ReadUInt32LittleEndian(bytes[(4 * index)..]);
            text.Append('-').Append(part.ToString(CultureInfo.InvariantCulture));
        }

        return text.ToString();
    }
}
