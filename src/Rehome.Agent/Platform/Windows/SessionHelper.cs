using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Rehome.Agent.Platform.Windows;

/// <summary>
/// The agent's program run in a user's session (started by the service through <see cref="NativeSessionCalls"/>
/// as that user, on their desktop) for what a service in session 0 cannot do for a user: lock their workstation,
/// and ask them for a password and log on with it so that Windows caches the logon. Its only output is the exit
/// code: 0 for done, otherwise a Win32 error (ERROR_CANCELLED when the user closed the prompt).
/// </summary>
[SupportedOSPlatform("windows")]
internal static class SessionHelper
{
    public const string Switch = "--session-helper";
    public const string LockCommand = "lock";
    public const string CacheCredentialsCommand = "cache-credentials";

    private const int ErrorInvalidParameter = 87;
    private const int MaxUserNameLength = 513;
    private const int MaxDomainLength = 256;
    private const int MaxPasswordLength = 256;

    public static int Run(IReadOnlyList<string> arguments) => arguments switch
    {
        [LockCommand] => NativeMethods.LockWorkStation() ? NativeMethods.Success : Marshal.GetLastPInvokeError(),
        [CacheCredentialsCommand, var user] when user.Length > 0 => CacheCredentials(user),
        _ => ErrorInvalidParameter,
    };

    /// <summary>
    /// <c>DOMAIN\user</c> gives the domain apart; a UPN (<c>user@example.org</c>) or a bare name goes whole, with no
    /// domain, as LogonUser takes it.
    /// </summary>
    internal static (string UserName, string? Domain) SplitAccount(string account)
    {
        var slash = account.IndexOf('\\', StringComparison.Ordinal);
        return slash > 0 && slash < account.Length - 1 ? (account[(slash + 1)..], account[..slash]) : (account, null);
    }

    /// <summary>
    /// Prompts for the password of <paramref name="account"/> (the name filled in) and logs on with it
    /// interactively, which makes Windows cache the logon. The password lives in a char array cleared after use.
    /// Whatever name the user types, the logon is for <paramref name="account"/>: only its password is taken.
    /// </summary>
    private static int CacheCredentials(string account)
    {
        var caption = Marshal.StringToHGlobalUni("Rehome");
        var message = Marshal.StringToHGlobalUni(
            $"Your device is moving to a new organisation. Enter the password of {account} once, so that you can sign in with it after the move.");
        var packed = (nint)0;
        uint packedSize = 0;
        try
        {
            _ = NativeMethods.CredPackAuthenticationBuffer(NativeMethods.CredPackGenericCredentials, account, "", 0, ref packedSize);
            packed = Marshal.AllocCoTaskMem((int)packedSize);
            if (!NativeMethods.CredPackAuthenticationBuffer(NativeMethods.CredPackGenericCredentials, account, "", packed, ref packedSize))
            {
                return Marshal.GetLastPInvokeError();
            }

            var info = new NativeMethods.CredUiInfo { Size = (uint)Marshal.SizeOf<NativeMethods.CredUiInfo>(), MessageText = message, CaptionText = caption };
            uint package = 0;
            var prompted = NativeMethods.CredUIPromptForWindowsCredentials(info, 0, ref package, packed, packedSize, out var answer, out var answerSize, 0, NativeMethods.CredUiWinGeneric);
            if (prompted != NativeMethods.Success)
            {
                return prompted;
            }

            return LogOn(account, answer, answerSize);
        }
        finally
        {
            Marshal.FreeCoTaskMem(packed);
            Marshal.FreeHGlobal(caption);
            Marshal.FreeHGlobal(message);
        }
    }

    private static int LogOn(string account, nint answer, uint answerSize)
    {
        var user = new char[MaxUserNameLength];
        var domain = new char[MaxDomainLength];
        var password = new char[MaxPasswordLength];
        uint userLength = MaxUserNameLength, domainLength = MaxDomainLength, passwordLength = MaxPasswordLength;
        try
        {
            if (!NativeMethods.CredUnPackAuthenticationBuffer(0, answer, answerSize, user, ref userLength, domain, ref domainLength, password, ref passwordLength))
            {
                return Marshal.GetLastPInvokeError();
            }

            var (userName, domainName) = SplitAccount(account);
            if (!NativeMethods.LogonUser(userName, domainName, password, NativeMethods.Logon32LogonInteractive, NativeMethods.Logon32ProviderDefault, out var token))
            {
                return Marshal.GetLastPInvokeError();
            }

            _ = NativeMethods.CloseKernelHandle(token);
            return NativeMethods.Success;
        }
        finally
        {
            Array.Clear(password);
            // The prompt's answer holds the password too.
            Marshal.Copy(new byte[answerSize], 0, answer, (int)answerSize);
            Marshal.FreeCoTaskMem(answer);
        }
    }
}
