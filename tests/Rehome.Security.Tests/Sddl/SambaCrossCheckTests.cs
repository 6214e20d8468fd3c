using Rehome.Security.Descriptors;
using Rehome.Security.Sddl;
using Rehome.Security.Tests.Support;

namespace Rehome.Security.Tests.Sddl;

/// <summary>Samba's codec (python3-samba) reads what Rehome writes, and Rehome reads what Samba writes.</summary>
public sealed class SambaCrossCheckTests
{
    private const string SambaRoundTrip = """
        import sys
        from samba.ndr import ndr_unpack, ndr_pack
        from samba.dcerpc import security
        for line in sys.stdin:
            descriptor = ndr_unpack(security.descriptor, bytes.fromhex(line.strip()))
            print(descriptor.as_sddl() + "\t" + ndr_pack(descriptor).hex())
        """;

    [Fact]
    public void Samba_decodes_generated_descriptors_to_the_same_sddl_and_encodes_them_to_the_same_descriptor()
    {
        var generator = new DescriptorGenerator(
            seed: 8,
            [AceType.AccessAllowed, AceType.AccessDenied, AceType.AccessAllowedObject, AceType.AccessDeniedObject, AceType.SystemAudit, AceType.SystemAuditObject],
            AceFlags.ObjectInherit | AceFlags.ContainerInherit | AceFlags.NoPropagateInherit | AceFlags.InheritOnly | AceFlags.Inherited
                | AceFlags.SuccessfulAccess | AceFlags.FailedAccess);
        var descriptors = Enumerable.Range(0, 500).Select(_ => generator.NextSddlDescriptor()).ToList();

        var lines = PythonSamba.Run(SambaRoundTrip, string.Join('\n', descriptors.Select(descriptor => Convert.ToHexString(descriptor.ToBinary()))) + "\n")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(descriptors.Count, lines.Length);
        for (var index = 0; index < descriptors.Count; index++)
        {
            var parts = lines[index].Split('\t');
            Assert.Equal(SddlWriter.Write(descriptors[index]), SddlWriter.Write(SddlParser.Parse(parts[0])));
            Assert.Equal(descriptors[index], SecurityDescriptor.FromBinary(Convert.FromHexString(parts[1])));
        }
    }
}
