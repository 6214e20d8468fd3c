using Rehome.Security.Descriptors;
using Rehome.Security.Sids;

namespace Rehome.Security.Tests.Support;

/// <summary>Random but reproducible descriptors for round-trip properties.</summary>
internal sealed class DescriptorGenerator(int seed, AceType[]? onlyTypes = null, AceFlags flagMask = (AceFlags)0xFF)
{
    public static readonly SecurityIdentifier SourceDomain = SecurityIdentifier.Parse("S-1-5-21-1111111111-2222222222-3333333333");
    public static readonly SecurityIdentifier DestinationDomain = SecurityIdentifier.Parse("S-1-5-21-444444444-555555555-666666666");

    private static readonly AceType[] SddlTypes =
    [
        AceType.AccessAllowed, AceType.AccessDenied, AceType.SystemAudit, AceType.SystemAlarm, AceType.AccessAllowedObject,
        AceType.AccessDeniedObject, AceType.SystemAuditObject, AceType.SystemAlarmObject, AceType.SystemMandatoryLabel,
        AceType.SystemScopedPolicyId, AceType.SystemProcessTrustLabel, AceType.AccessAllowedCallback, AceType.AccessDeniedCallback,
        AceType.AccessAllowedCallbackObject, AceType.SystemAuditCallback, AceType.SystemResourceAttribute,
    ];

    private readonly Random random = new(seed);
    private ConditionGenerator? conditions;

    private ConditionGenerator Conditions => conditions ??= new ConditionGenerator(random, NextSid);

    public SecurityIdentifier NextSid() => random.Next(6) switch
    {
        0 => WellKnownSids.BuiltinAdministrators,
        1 => WellKnownSids.LocalSystem,
        2 => WellKnownSids.Everyone,
        3 => SourceDomain.WithRid((uint)random.Next(500, 1200)),
        4 => DestinationDomain.WithRid((uint)random.Next(500, 1200)),
        _ => SecurityIdentifier.Create((ulong)random.NextInt64(0, 1L << 48), [.. Enumerable.Range(0, random.Next(0, 16)).Select(_ => (uint)random.NextInt64(0, 1L << 32))]),
    };

    /// <summary>A descriptor whose every part has an SDDL form.</summary>
    public SecurityDescriptor NextSddlDescriptor() => Next(binaryOnly: false);

    /// <summary>A descriptor that may also hold raw (unknown or compound) ACEs and callback ACEs with binary data.</summary>
    public SecurityDescriptor NextBinaryDescriptor() => Next(binaryOnly: true);

    private SecurityDescriptor Next(bool binaryOnly)
    {
        var control = (ControlFlags)(random.Next(0x10000) & 0x3F0B) | ControlFlags.SelfRelative;
        if (!binaryOnly)
        {
            control &= ControlFlags.DaclProtected | ControlFlags.SaclProtected | ControlFlags.DaclAutoInherited | ControlFlags.SaclAutoInherited
                | ControlFlags.DaclAutoInheritRequired | ControlFlags.SaclAutoInheritRequired | ControlFlags.SelfRelative;
        }

        var descriptor = new SecurityDescriptor
        {
            Control = control,
            Owner = random.Next(8) == 0 ? null : NextSid(),
            Group = random.Next(8) == 0 ? null : NextSid(),
            Dacl = random.Next(10) == 0 ? null : NextAcl(binaryOnly, system: false),
            Sacl = random.Next(3) == 0 ? NextAcl(binaryOnly, system: true) : null,
        };
        descriptor.Control = descriptor.Dacl is null ? descriptor.Control & ~ControlFlags.DaclPresent : descriptor.Control | ControlFlags.DaclPresent;
        descriptor.Control = descriptor.Sacl is null ? descriptor.Control & ~ControlFlags.SaclPresent : descriptor.Control | ControlFlags.SaclPresent;
        if (!binaryOnly && descriptor.Dacl is null)
        {
            // SDDL has nowhere to put the flags of an absent ACL.
            descriptor.Control &= ~(ControlFlags.DaclProtected | ControlFlags.DaclAutoInherited | ControlFlags.DaclAutoInheritRequired);
        }

        if (!binaryOnly && descriptor.Sacl is null)
        {
            descriptor.Control &= ~(ControlFlags.SaclProtected | ControlFlags.SaclAutoInherited | ControlFlags.SaclAutoInheritRequired);
        }
        return descriptor;
    }

    private Acl NextAcl(bool binaryOnly, bool system)
    {
        var acl = new Acl();
        var count = random.Next(0, 8);
        for (var index = 0; index < count; index++)
        {
            var ace = NextAce(binaryOnly, system);
            acl.Aces.Add(ace);
            if (AceTypes.LayoutOf(ace.Type) == AceLayout.Object)
            {
                acl.Revision = 4;
            }
        }

        return acl;
    }

    private Ace NextAce(bool binaryOnly, bool system)
    {
        if (binaryOnly && random.Next(6) == 0)
        {
            var rawType = random.Next(2) == 0 ? AceType.AccessAllowedCompound : (AceType)random.Next(0x16, 0x100);
            var body = new byte[random.Next(0, 20) * 4];
            random.NextBytes(body);
            return new Ace { Type = rawType, Flags = (AceFlags)random.Next(256), RawBody = body };
        }

        AceType type;
        if (binaryOnly && random.Next(4) == 0)
        {
            type = (AceType)random.Next(0x09, 0x11);
        }
        else
        {
            var types = onlyTypes ?? SddlTypes;
            do
            {
                type = types[random.Next(types.Length)];
            }
            while (!system && AceTypes.IsSystemAcl(type));
        }

        var isObject = AceTypes.LayoutOf(type) == AceLayout.Object;
        var data = Array.Empty<byte>();
        if (binaryOnly && AceTypes.IsCallback(type) && random.Next(2) == 0)
        {
            // Application data that is not a conditional expression, which callback ACEs may also carry.
            data = new byte[random.Next(1, 8) * 4];
            random.NextBytes(data);
        }
        else if (AceTypes.IsCallback(type) && random.Next(5) > 0)
        {
            data = Conditions.NextExpression(allowShortIntegers: binaryOnly).ToBinary();
        }
        else if (type == AceType.SystemResourceAttribute)
        {
            data = Conditions.NextResourceAttribute().ToBinary();
        }

        var flags = (AceFlags)random.Next(256) & flagMask;
        if (!system)
        {
            flags &= ~(AceFlags.SuccessfulAccess | AceFlags.FailedAccess);
        }

        return new Ace
        {
            Type = type,
            Flags = flags,
            AccessMask = random.Next(3) == 0 ? 0x001F01FFu : (uint)random.NextInt64(0, 1L << 32),
            Sid = NextSid(),
            ObjectType = isObject && random.Next(2) == 0 ? Guid.NewGuid() : null,
            InheritedObjectType = isObject && random.Next(2) == 0 ? Guid.NewGuid() : null,
            ApplicationData = data,
        };
    }
}
