namespace Rehome.Security.Descriptors;

/// <summary>ACE header flags (MS-DTYP 2.4.4.1).</summary>
[Flags]
#pragma warning disable CA1028 // The wire format is one byte.
public enum AceFlags : byte
#pragma warning restore CA1028
{
    None = 0,
    ObjectInherit = 0x01,
    ContainerInherit = 0x02,
    NoPropagateInherit = 0x04,
    InheritOnly = 0x08,
    Inherited = 0x10,
    Critical = 0x20,
    SuccessfulAccess = 0x40,
    FailedAccess = 0x80,
}

/// <summary>Which GUIDs an object ACE carries.</summary>
[Flags]
public enum ObjectAceFlags
{
    None = 0,
    ObjectTypePresent = 0x1,
    InheritedObjectTypePresent = 0x2,
}

/// <summary>SECURITY_DESCRIPTOR control flags (MS-DTYP 2.4.6).</summary>
[Flags]
#pragma warning disable CA1028 // The wire format is two bytes.
public enum ControlFlags : ushort
#pragma warning restore CA1028
{
    None = 0,
    OwnerDefaulted = 0x0001,
    GroupDefaulted = 0x0002,
    DaclPresent = 0x0004,
    DaclDefaulted = 0x0008,
    SaclPresent = 0x0010,
    SaclDefaulted = 0x0020,
    DaclTrusted = 0x0040,
    ServerSecurity = 0x0080,
    DaclAutoInheritRequired = 0x0100,
    SaclAutoInheritRequired = 0x0200,
    DaclAutoInherited = 0x0400,
    SaclAutoInherited = 0x0800,
    DaclProtected = 0x1000,
    SaclProtected = 0x2000,
    ResourceManagerControlValid = 0x4000,
    SelfRelative = 0x8000,
}
