namespace Rehome.Security;

/// <summary>
/// Malformed security data: a binary SID, ACE, ACL or security descriptor, or SDDL text. Binary errors carry the byte
/// offset where decoding failed, SDDL errors the character position.
/// </summary>
public sealed class SecurityFormatException : FormatException
{
    public SecurityFormatException()
    {
    }

    public SecurityFormatException(string message)
        : base(message)
    {
    }

    public SecurityFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    private SecurityFormatException(string message, int? offset, int? position)
        : base(message)
    {
        Offset = offset;
        Position = position;
    }

    /// <summary>Byte offset in the binary input where the problem was found, for binary input.</summary>
    public int? Offset { get; }

    /// <summary>Character position in the SDDL text where the problem was found, for SDDL input.</summary>
    public int? Position { get; }

    internal static SecurityFormatException AtOffset(int offset, string problem) =>
        new($"{problem} (at byte offset {offset})", offset, null);

    internal static SecurityFormatException AtPosition(int position, string problem) =>
        new($"{problem} (at position {position})", null, position);
}
