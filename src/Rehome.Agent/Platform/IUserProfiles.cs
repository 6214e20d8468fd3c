using System.Buffers.Binary;
using System.Text;

namespace Rehome.Agent.Platform;

/// <summary>A user profile as ProfileList holds it: the owner's SID and the profile's folder (expanded).</summary>
public sealed record UserProfile(string Sid, string ProfileImagePath);

/// <summary>
/// A registry value exactly as Windows stores it: its name, its type (REG_SZ = 1, REG_EXPAND_SZ = 2, REG_BINARY = 3,
/// REG_DWORD = 4, REG_MULTI_SZ = 7, REG_QWORD = 11, or any other number) and its raw bytes, so that a copy or a
/// restore is byte for byte whatever the type.
/// </summary>
public sealed record RegistryValue(string Name, int Type, byte[] Data)
{
    public const int String = 1;
    public const int ExpandString = 2;
    public const int Binary = 3;
    public const int DWord = 4;

    public static RegistryValue OfDWord(string name, uint value)
    {
        var data = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(data, value);
        return new RegistryValue(name, DWord, data);
    }

    public static RegistryValue OfString(string name, string value, int type = String) =>
        new(name, type, Encoding.Unicode.GetBytes(value + "\0"));

    /// <summary>The value as a DWORD; null when it is not a 4-byte REG_DWORD.</summary>
    public uint? AsDWord() => Type == DWord && Data.Length == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(Data) : null;

    /// <summary>The value as text (REG_SZ, REG_EXPAND_SZ, not expanded); null for another type.</summary>
    public string? AsString() => Type is String or ExpandString ? Encoding.Unicode.GetString(Data).TrimEnd('\0') : null;

    public bool SameAs(RegistryValue other) =>
        string.Equals(Name, other.Name, StringComparison.OrdinalIgnoreCase) && Type == other.Type && Data.AsSpan().SequenceEqual(other.Data);
}

/// <summary>
/// One ProfileList subkey, whole: its name (a SID, or <c>&lt;SID&gt;.bak</c> when Windows set the profile aside)
/// and every value it holds, in the order Windows lists them.
/// </summary>
public sealed record ProfileListEntry(string KeyName, IReadOnlyList<RegistryValue> Values)
{
    /// <summary>The suffix Windows gives the entry of a profile it could not load, before it signs the user in with a temporary one.</summary>
    public const string BackupSuffix = ".bak";

    /// <summary>State bit: a temporary profile is loaded (PROFILE_TEMP_ASSIGNED).</summary>
    public const uint TemporaryState = 0x0800;

    /// <summary>State bit: this entry is the one Windows renamed to <c>.bak</c> (PROFILE_THIS_IS_BAK).</summary>
    public const uint BackupState = 0x8000;

    public RegistryValue? Value(string name) => Values.FirstOrDefault(v => string.Equals(v.Name, name, StringComparison.OrdinalIgnoreCase));

    public string? ProfileImagePath => Value("ProfileImagePath")?.AsString();

    public uint State => Value("State")?.AsDWord() ?? 0;

    public bool IsBackup => KeyName.EndsWith(BackupSuffix, StringComparison.OrdinalIgnoreCase);

    /// <summary>The SID the key is named after (without <c>.bak</c>).</summary>
    public string Sid => IsBackup ? KeyName[..^BackupSuffix.Length] : KeyName;

    /// <summary>The same entry with <paramref name="value"/> replacing the value of its name (or added at the end).</summary>
    public ProfileListEntry With(RegistryValue value)
    {
        var values = Values.ToList();
        var index = values.FindIndex(v => string.Equals(v.Name, value.Name, StringComparison.OrdinalIgnoreCase));
        if (index < 0)
        {
            values.Add(value);
        }
        else
        {
            values[index] = value;
        }
        return this with { Values = values };
    }

    /// <summary>Whether both entries hold the same values, each with the same type and bytes.</summary>
    public bool SameValuesAs(ProfileListEntry other) =>
        Values.Count == other.Values.Count && Values.All(v => other.Value(v.Name) is { } o && v.SameAs(o));
}

/// <summary>ProfileList, the accounts its entries belong to, and the users' registry hives.</summary>
public interface IUserProfiles
{
    /// <summary>The profiles Windows loads: entries named after a SID that have a folder (no <c>.bak</c> entries).</summary>
    Task<IReadOnlyList<UserProfile>> GetAsync(CancellationToken ct);

    /// <summary>The entry named <paramref name="keyName"/> with every value; null when there is none.</summary>
    Task<ProfileListEntry?> GetEntryAsync(string keyName, CancellationToken ct);

    /// <summary>Makes the entry exactly <paramref name="entry"/>: creates the key, writes every value, removes the values it does not list.</summary>
    Task WriteEntryAsync(ProfileListEntry entry, CancellationToken ct);

    /// <summary>Removes the entry named <paramref name="keyName"/>; nothing when it is gone.</summary>
    Task RemoveEntryAsync(string keyName, CancellationToken ct);

    /// <summary>
    /// The SID of the user account <paramref name="account"/> (<c>DOMAIN\name</c> or a UPN) as Windows resolves it
    /// now (LookupAccountName: the domain the device can reach, its trusts, the logon cache); null when it cannot
    /// be resolved or is not a user.
    /// </summary>
    Task<string?> FindAccountSidAsync(string account, CancellationToken ct);

    /// <summary>The registry hives of the profiles (loaded in place or under a temporary key).</summary>
    UserHives Hives { get; }
}
