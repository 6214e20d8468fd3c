namespace Rehome.Directory;

/// <summary>A user name and password for a directory. <see cref="ToString"/> never shows the password.</summary>
/// <param name="UserName">"DOMAIN\user", "user@domain" or a distinguished name, as the directory accepts.</param>
/// <param name="Password">The password; a secret.</param>
public sealed record DirectoryCredential(string UserName, string Password)
{
    /// <summary>Only the user name, so that credentials written to a log reveal no secret.</summary>
    public override string ToString() => $"{UserName} (password hidden)";
}
