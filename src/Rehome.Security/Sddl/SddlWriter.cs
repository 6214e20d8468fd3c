using System.Globalization;
using System.Text;
using Rehome.Security.Conditions;
using Rehome.Security.Descriptors;
using Rehome.Security.Sids;

namespace Rehome.Security.Sddl;

/// <summary>Prints a <see cref="SecurityDescriptor"/> as SDDL, in the form Windows emits.</summary>
public static class SddlWriter
{
    /// <summary>
    /// The SDDL text of <paramref name="descriptor"/>; SIDs of <paramref name="domain"/> with a domain alias are
    /// printed as that alias (DA, DU, …). ACE types without an SDDL word cannot be printed.
    /// </summary>
    public static string Write(SecurityDescriptor descriptor, SecurityIdentifier? domain = null)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        var builder = new StringBuilder(256);
        if (descriptor.Owner is not null)
        {
            builder.Append("O:");
            AppendSid(builder, descriptor.Owner, domain);
        }

        if (descriptor.Group is not null)
        {
            builder.Append("G:");
            AppendSid(builder, descriptor.Group, domain);
        }

        var control = descriptor.Control;
        if (descriptor.Dacl is not null || (control & ControlFlags.DaclPresent) != 0)
        {
            builder.Append("D:");
            AppendAclFlags(builder, control, ControlFlags.DaclProtected, ControlFlags.DaclAutoInheritRequired, ControlFlags.DaclAutoInherited);
            if (descriptor.Dacl is null)
            {
                builder.Append("NO_ACCESS_CONTROL");
            }
            else
            {
                AppendAces(builder, descriptor.Dacl, domain);
            }
        }

        if (descriptor.Sacl is not null)
        {
            builder.Append("S:");
            AppendAclFlags(builder, control, ControlFlags.SaclProtected, ControlFlags.SaclAutoInheritRequired, ControlFlags.SaclAutoInherited);
            AppendAces(builder, descriptor.Sacl, domain);
        }

        return builder.ToString();
    }

    /// <summary>The SDDL text of one ACE, parentheses included.</summary>
    public static string WriteAce(Ace ace, SecurityIdentifier? domain = null)
    {
        ArgumentNullException.ThrowIfNull(ace);
        var builder = new StringBuilder(64);
        AppendAce(builder, ace, domain);
        return builder.ToString();
    }

    private static void AppendAclFlags(StringBuilder builder, ControlFlags control, ControlFlags isProtected, ControlFlags required, ControlFlags inherited)
    {
        if ((control & isProtected) != 0)
        {
            builder.Append('P');
        }

        if ((control & required) != 0)
        {
            builder.Append("AR");
        }

        if ((control & inherited) != 0)
        {
            builder.Append("AI");
        }
    }

    private static void AppendAces(StringBuilder builder, Acl acl, SecurityIdentifier? domain)
    {
        foreach (var ace in acl.Aces)
        {
            AppendAce(builder, ace, domain);
        }
    }

    private static void AppendAce(StringBuilder builder, Ace ace, SecurityIdentifier? domain)
    {
        var typeWord = Array.Find(SddlVocabulary.AceTypeWords, entry => entry.Type == ace.Type).Word
            ?? throw new InvalidOperationException($"ACE type 0x{(byte)ace.Type:X2} has no SDDL form.");
        builder.Append('(').Append(typeWord).Append(';');
        foreach (var (word, flag) in SddlVocabulary.AceFlagWords)
        {
            if ((ace.Flags & flag) != 0)
            {
                builder.Append(word);
            }
        }

        builder.Append(';');
        AppendRights(builder, ace.AccessMask, ace.Type == AceType.SystemMandatoryLabel);
        builder.Append(';');
        if (ace.ObjectType is { } objectType)
        {
            builder.Append(objectType.ToString("D"));
        }

        builder.Append(';');
        if (ace.InheritedObjectType is { } inheritedObjectType)
        {
            builder.Append(inheritedObjectType.ToString("D"));
        }

        builder.Append(';');
        AppendSid(builder, ace.Sid ?? throw new InvalidOperationException("ACE has no SID."), domain);
        var data = ace.ApplicationData.Span;
        if (!data.IsEmpty && AceTypes.IsCallback(ace.Type))
        {
            builder.Append(';').Append(ConditionalExpression.IsConditional(data)
                ? ConditionalExpression.FromBinary(data).ToSddl(domain)
                : throw new InvalidOperationException("The application data of this callback ACE is not a conditional expression and has no SDDL form."));
        }
        else if (!data.IsEmpty && ace.Type == AceType.SystemResourceAttribute)
        {
            builder.Append(';').Append(ResourceAttribute.FromBinary(data).ToSddl(domain));
        }

        builder.Append(')');
    }

    private static void AppendRights(StringBuilder builder, uint mask, bool isLabel)
    {
        if (mask == 0)
        {
            return;
        }

        if (!isLabel)
        {
            foreach (var (word, composite) in SddlVocabulary.CompositeRights)
            {
                if (composite == mask)
                {
                    builder.Append(word);
                    return;
                }
            }
        }

        var table = isLabel ? SddlVocabulary.LabelRights : SddlVocabulary.BitRights;
        var covered = 0u;
        foreach (var (_, bit) in table)
        {
            covered |= mask & bit;
        }

        if (covered != mask)
        {
            builder.Append("0x").Append(mask.ToString("x", CultureInfo.InvariantCulture));
            return;
        }

        foreach (var (word, bit) in table)
        {
            if ((mask & bit) != 0)
            {
                builder.Append(word);
            }
        }
    }

    private static void AppendSid(StringBuilder builder, SecurityIdentifier sid, SecurityIdentifier? domain) =>
        builder.Append(WellKnownSids.ToAlias(sid, domain) ?? sid.ToString());
}
