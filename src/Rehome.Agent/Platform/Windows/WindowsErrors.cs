using System.Globalization;
using Rehome.Agent.Jobs;

namespace Rehome.Agent.Platform.Windows;

/// <summary>The kinds of Windows failure the rejoin steps tell apart; each has a stable step failure code.</summary>
internal enum WindowsErrorKind
{
    Other,
    AccessDenied,
    NoSuchDomain,
    DomainControllerUnreachable,
    AlreadyJoined,
    NotJoined,
    ComputerAccountRefused,
    ShutdownUnderway,
}

/// <summary>
/// Win32 and NET_API_STATUS codes the Windows platform decides on, their kinds, and the failures it reports:
/// a <see cref="StepFailedException"/> whose code is stable (the server and the console show it) and whose
/// message names the call, the number and Windows' text for it.
/// </summary>
internal static class WindowsErrors
{
    public const int Success = 0;
    public const int AccessDenied = 5;
    public const int NetworkPathNotFound = 53;
    public const int InvalidPassword = 86;
    public const int ServiceNotActive = 1062;
    public const int ShutdownInProgress = 1115;
    public const int ShutdownIsScheduled = 1190;
    public const int NoLogonServers = 1311;
    public const int NoSuchUser = 1317;
    public const int WrongPassword = 1323;
    public const int LogonFailure = 1326;
    public const int NoSuchDomain = 1355;
    public const int RpcServerUnavailable = 1722;
    public const int NoTrustSamAccount = 1787;
    public const int TrustedRelationshipFailure = 1789;
    public const int NerrUserNotFound = 2221;
    public const int NerrDcNotFound = 2453;
    public const int NerrSetupAlreadyJoined = 2691;
    public const int NerrSetupNotJoined = 2692;

    /// <summary>The NET_API_STATUS range (lmerr.h: NERR_BASE 2100 to MAX_NERR 2999); texts are in netmsg.dll.</summary>
    public static bool IsNetApiStatus(int code) => code is >= 2100 and <= 2999;

    public static WindowsErrorKind Classify(int code) => code switch
    {
        AccessDenied => WindowsErrorKind.AccessDenied,
        NoSuchDomain => WindowsErrorKind.NoSuchDomain,
        NoLogonServers or NerrDcNotFound or RpcServerUnavailable or NetworkPathNotFound or ServiceNotActive => WindowsErrorKind.DomainControllerUnreachable,
        NerrSetupAlreadyJoined => WindowsErrorKind.AlreadyJoined,
        NerrSetupNotJoined => WindowsErrorKind.NotJoined,
        LogonFailure or WrongPassword or InvalidPassword or NoSuchUser or NerrUserNotFound or NoTrustSamAccount or TrustedRelationshipFailure => WindowsErrorKind.ComputerAccountRefused,
        ShutdownInProgress or ShutdownIsScheduled => WindowsErrorKind.ShutdownUnderway,
        _ => WindowsErrorKind.Other,
    };

    /// <summary>The step failure code of <paramref name="kind"/>.</summary>
    public static string CodeOf(WindowsErrorKind kind) => kind switch
    {
        WindowsErrorKind.Other => "WindowsCallFailed",
        _ => kind.ToString(),
    };

    /// <summary>The message for <paramref name="code"/> from <paramref name="call"/>: the number is always in it, Windows' text when it has one.</summary>
    public static string Describe(IWin32Errors errors, int code, string call)
    {
        var text = errors.Describe(code).Trim();
        var number = code.ToString(CultureInfo.InvariantCulture);
        return $"{call} failed with error {number} (0x{code:X8}){(text.Length == 0 ? "" : ": " + text)}";
    }

    public static StepFailedException Failure(IWin32Errors errors, int code, string call) =>
        new(CodeOf(Classify(code)), Describe(errors, code, call));

    /// <summary>Throws the failure of <paramref name="call"/> unless <paramref name="code"/> is success.</summary>
    public static void Check(IWin32Errors errors, int code, string call)
    {
        if (code != Success)
        {
            throw Failure(errors, code, call);
        }
    }
}
