using System.Security.Cryptography;

namespace Rehome.Directory.ActiveDirectory;

/// <summary>
/// One-time passwords for pre-created computer accounts: the device joins with it (an unsecure join with the
/// machine password passed) and Windows replaces it with its own random password on its next change.
/// </summary>
public static class MachinePasswords
{
    public const int Length = 64;

    private const string Upper = "ABCDEFGHJKLMNPQRSTUVWXYZ";
    private const string Lower = "abcdefghijkmnopqrstuvwxyz";
    private const string Digits = "23456789";

    // No quotes, backslashes or spaces: the password travels inside quotes (unicodePwd) and through NetJoinDomain.
    private const string Symbols = "!#$%&()*+-./:;<=>?@[]^_{|}~";

    /// <summary>A random password that meets any domain's complexity rules (all four classes, 64 characters).</summary>
    public static string Generate()
    {
        const string all = Upper + Lower + Digits + Symbols;
        var password = new char[Length];
        password[0] = Upper[RandomNumberGenerator.GetInt32(Upper.Length)];
        password[1] = Lower[RandomNumberGenerator.GetInt32(Lower.Length)];
        password[2] = Digits[RandomNumberGenerator.GetInt32(Digits.Length)];
        password[3] = Symbols[RandomNumberGenerator.GetInt32(Symbols.Length)];
        for (var i = 4; i < password.Length; i++)
        {
            password[i] = all[RandomNumberGenerator.GetInt32(all.Length)];
        }
        RandomNumberGenerator.Shuffle(password.AsSpan());
        return new string(password);
    }
}
