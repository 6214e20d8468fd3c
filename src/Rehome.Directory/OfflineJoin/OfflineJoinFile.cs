using System.Text;

namespace Rehome.Directory.OfflineJoin;

/// <summary>
/// The offline join file format: the base64 text of the provisioning data, NUL-terminated, in UTF-16LE
/// behind a byte order mark. Samba's savefile and djoin.exe /savefile both write it.
/// </summary>
public static class OfflineJoinFile
{
    /// <summary>The file's bytes for the base64 text of the provisioning data.</summary>
    /// <exception cref="FormatException">The text is not base64.</exception>
    public static byte[] FromBase64Text(string base64)
    {
        ArgumentNullException.ThrowIfNull(base64);
        var text = base64.Trim();
        // Fails on anything that is not base64 before it becomes a file an agent would choke on.
        _ = Convert.FromBase64String(text);
        var preamble = Encoding.Unicode.GetPreamble();
        var body = Encoding.Unicode.GetBytes(text + "\0");
        return [.. preamble, .. body];
    }

    /// <summary>The base64 text held by an offline join file.</summary>
    /// <exception cref="FormatException">The bytes are not an offline join file.</exception>
    public static string ToBase64Text(ReadOnlySpan<byte> file)
    {
        var preamble = Encoding.Unicode.GetPreamble();
        if (!file.StartsWith(preamble))
        {
            throw new FormatException("An offline join file starts with a UTF-16LE byte order mark.");
        }

        var text = Encoding.Unicode.GetString(file[preamble.Length..]).TrimEnd('\0');
        _ = Convert.FromBase64String(text);
        return text;
    }
}
