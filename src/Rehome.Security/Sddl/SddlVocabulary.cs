using Rehome.Security.Descriptors;

namespace Rehome.Security.Sddl;

/// <summary>The SDDL words: ACE type strings, ACE flag strings and access right aliases.</summary>
internal static class SddlVocabulary
{
    public static readonly (string Word, AceType Type)[] AceTypeWords =
    [
        ("A", AceType.AccessAllowed), ("D", AceType.AccessDenied), ("AU", AceType.SystemAudit), ("AL", AceType.SystemAlarm),
        ("OA", AceType.AccessAllowedObject), ("OD", AceType.AccessDeniedObject), ("OU", AceType.SystemAuditObject),
        ("OL", AceType.SystemAlarmObject), ("XA", AceType.AccessAllowedCallback), ("XD", AceType.AccessDeniedCallback),
        ("ZA", AceType.AccessAllowedCallbackObject), ("XU", AceType.SystemAuditCallback), ("ML", AceType.SystemMandatoryLabel),
        ("RA", AceType.SystemResourceAttribute), ("SP", AceType.SystemScopedPolicyId), ("TL", AceType.SystemProcessTrustLabel),
        ("FL", AceType.SystemAccessFilter),
    ];

    public static readonly (string Word, AceFlags Flag)[] AceFlagWords =
    [
        ("OI", AceFlags.ObjectInherit), ("CI", AceFlags.ContainerInherit), ("NP", AceFlags.NoPropagateInherit),
        ("IO", AceFlags.InheritOnly), ("ID", AceFlags.Inherited), ("CR", AceFlags.Critical),
        ("SA", AceFlags.SuccessfulAccess), ("FA", AceFlags.FailedAccess),
    ];

    /// <summary>Aliases that stand for a whole mask and are printed only on an exact match.</summary>
    public static readonly (string Word, uint Mask)[] CompositeRights =
    [
        ("FA", 0x001F01FF), ("FR", 0x00120089), ("FW", 0x00120116), ("FX", 0x001200A0),
        ("KA", 0x000F003F), ("KR", 0x00020019), ("KW", 0x00020006), ("KX", 0x00020019),
    ];

    /// <summary>
    /// Single-bit aliases, in the order they are printed: ascending bit order, as Windows prints them
    /// (<c>CCDCLCSWRPWPDTLOCRSDRCWDWO</c>, <c>GXGR</c>).
    /// </summary>
    public static readonly (string Word, uint Mask)[] BitRights =
    [
        ("CC", 0x00000001), ("DC", 0x00000002), ("LC", 0x00000004), ("SW", 0x00000008), ("RP", 0x00000010),
        ("WP", 0x00000020), ("DT", 0x00000040), ("LO", 0x00000080), ("CR", 0x00000100),
        ("SD", 0x00010000), ("RC", 0x00020000), ("WD", 0x00040000), ("WO", 0x00080000),
        ("GA", 0x10000000), ("GX", 0x20000000), ("GW", 0x40000000), ("GR", 0x80000000),
    ];

    /// <summary>Mandatory label policy bits, used instead of the bit aliases in ML ACEs.</summary>
    public static readonly (string Word, uint Mask)[] LabelRights =
    [
        ("NW", 0x1), ("NR", 0x2), ("NX", 0x4),
    ];
}
