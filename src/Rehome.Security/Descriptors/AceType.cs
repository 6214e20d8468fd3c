namespace Rehome.Security.Descriptors;

/// <summary>ACE types of MS-DTYP 2.4.4.1; values outside this list are kept as raw bytes.</summary>
#pragma warning disable CA1028 // The wire format is one byte.
public enum AceType : byte
#pragma warning restore CA1028
{
    AccessAllowed = 0x00,
    AccessDenied = 0x01,
    SystemAudit = 0x02,
    SystemAlarm = 0x03,
    AccessAllowedCompound = 0x04,
    AccessAllowedObject = 0x05,
    AccessDeniedObject = 0x06,
    SystemAuditObject = 0x07,
    SystemAlarmObject = 0x08,
    AccessAllowedCallback = 0x09,
    AccessDeniedCallback = 0x0A,
    AccessAllowedCallbackObject = 0x0B,
    AccessDeniedCallbackObject = 0x0C,
    SystemAuditCallback = 0x0D,
    SystemAlarmCallback = 0x0E,
    SystemAuditCallbackObject = 0x0F,
    SystemAlarmCallbackObject = 0x10,
    SystemMandatoryLabel = 0x11,
    SystemResourceAttribute = 0x12,
    SystemScopedPolicyId = 0x13,
    SystemProcessTrustLabel = 0x14,
    SystemAccessFilter = 0x15,
}

/// <summary>How the body of an ACE type is laid out.</summary>
internal enum AceLayout
{
    /// <summary>Mask, SID, optional trailing data.</summary>
    Basic,

    /// <summary>Mask, object flags, up to two GUIDs, SID, optional trailing data.</summary>
    Object,

    /// <summary>Not decoded: the body is kept byte-for-byte.</summary>
    Raw,
}

internal static class AceTypes
{
    // Indexed by the type byte: 0 basic, 1 object, 2 raw. A table, because this sits on the translator's hot path.
    private static ReadOnlySpan<byte> Layouts =>
    [
        0, 0, 0, 0, 2, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
        2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
        2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
        2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
        2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
        2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
        2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
        2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    ];

    public static AceLayout LayoutOf(AceType type) => (AceLayout)Layouts[(byte)type];

    public static bool IsCallback(AceType type) => type is AceType.AccessAllowedCallback or AceType.AccessDeniedCallback
        or AceType.AccessAllowedCallbackObject or AceType.AccessDeniedCallbackObject or AceType.SystemAuditCallback
        or AceType.SystemAlarmCallback or AceType.SystemAuditCallbackObject or AceType.SystemAlarmCallbackObject;

    public static bool IsSystemAcl(AceType type) => type is AceType.SystemAudit or AceType.SystemAlarm or AceType.SystemAuditObject
        or AceType.SystemAlarmObject or AceType.SystemAuditCallback or AceType.SystemAlarmCallback
        or AceType.SystemAuditCallbackObject or AceType.SystemAlarmCallbackObject or AceType.SystemMandatoryLabel
        or AceType.SystemResourceAttribute or AceType.SystemScopedPolicyId or AceType.SystemProcessTrustLabel
        or AceType.SystemAccessFilter;
}
