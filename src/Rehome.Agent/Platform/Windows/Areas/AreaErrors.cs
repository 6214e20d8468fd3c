using Rehome.Security.Stores;

namespace Rehome.Agent.Platform.Windows.Areas;

/// <summary>
/// How the device areas' Win32 and COM failures become <see cref="SecurityStoreException"/> kinds, so that a walk
/// records one item's failure and goes on.
/// </summary>
internal static class AreaErrors
{
    public const int FileNotFound = 2;
    public const int PathNotFound = 3;
    public const int AccessDenied = 5;
    public const int SharingViolation = 32;
    public const int LockViolation = 33;
    public const int ServiceDoesNotExist = 1060;
    public const int ServiceMarkedForDelete = 1072;
    public const int NotFound = 1168;
    public const int PrivilegeNotHeld = 1314;
    public const int NoneMapped = 1332;
    public const int InvalidPrinterName = 1801;
    public const int NerrNetNameNotFound = 2310;

    /// <summary>
    /// The Win32 error inside <paramref name="code"/>: a FACILITY_WIN32 HRESULT (0x8007xxxx, as the Task Scheduler's
    /// COM interface answers) is unwrapped, anything else is taken as it is.
    /// </summary>
    public static int Win32Of(int code) => (code & unchecked((int)0xFFFF0000)) == unchecked((int)0x80070000) ? code & 0xFFFF : code;

    public static SecurityStoreErrorKind KindOf(int code) => Win32Of(code) switch
    {
        FileNotFound or PathNotFound or ServiceDoesNotExist or NotFound or InvalidPrinterName or NerrNetNameNotFound => SecurityStoreErrorKind.NotFound,
        AccessDenied or PrivilegeNotHeld => SecurityStoreErrorKind.AccessDenied,
        SharingViolation or LockViolation or ServiceMarkedForDelete => SecurityStoreErrorKind.InUse,
        _ => SecurityStoreErrorKind.Other,
    };

    /// <summary>The item's failure: its kind, and a message naming the item, the call, the number and Windows' text.</summary>
    public static SecurityStoreException Failure(IWin32Errors errors, int code, string path, string call) =>
        new(KindOf(code), path, $"{path}: {WindowsErrors.Describe(errors, code, call)}");

    /// <summary>Throws the item's failure unless <paramref name="code"/> is success.</summary>
    public static void Check(IWin32Errors errors, int code, string path, string call)
    {
        if (code != WindowsErrors.Success)
        {
            throw Failure(errors, code, path, call);
        }
    }
}
