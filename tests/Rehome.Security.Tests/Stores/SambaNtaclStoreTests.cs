using System.Runtime.Versioning;
using Rehome.Security.Descriptors;
using Rehome.Security.Sddl;
using Rehome.Security.Stores;
using Rehome.Security.Tests.Support;

namespace Rehome.Security.Tests.Stores;

/// <summary>The security.NTACL store against Samba's own NDR codec on a real file system's extended attributes.</summary>
[SupportedOSPlatform("linux")]
public sealed class SambaNtaclStoreTests : IDisposable
{
    private const string SambaWrite = """
        import os, sys
        from samba.ndr import ndr_pack
        from samba.dcerpc import security, xattr
        path, sddl = sys.stdin.read().split("\t")
        blob = xattr.NTACL()
        blob.version = 1
        blob.info = security.descriptor.from_sddl(sddl, security.dom_sid("S-1-5-21-1-2-3"))
        os.setxattr(path, "security.NTACL", ndr_pack(blob))
        """;

    private const string SambaRead = """
        import os, sys
        from samba.ndr import ndr_unpack
        from samba.dcerpc import xattr
        blob = ndr_unpack(xattr.NTACL, os.getxattr(sys.stdin.read(), "security.NTACL"))
        print(blob.version, blob.info.as_sddl())
        """;

    private readonly string folder = Directory.CreateTempSubdirectory("rehome-ntacl-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void The_store_reads_what_samba_wrote()
    {
        var file = Path.Combine(folder, "written-by-samba.txt");
        File.WriteAllBytes(file, []);
        const string sddl = "O:S-1-5-21-1-2-3-1000G:S-1-5-21-1-2-3-513D:AI(A;OICI;0x001f01ff;;;S-1-5-21-1-2-3-1000)(A;ID;0x001200a9;;;BA)";
        PythonSamba.Run(SambaWrite, file + "\t" + sddl);

        var descriptor = SecurityDescriptor.FromBinary(new SambaNtaclSecurityStore().ReadDescriptor(file));

        Assert.Equal(SddlWriter.Write(SddlParser.Parse(sddl)), SddlWriter.Write(descriptor));
    }

    [Fact]
    public void Samba_reads_what_the_store_wrote()
    {
        var file = Path.Combine(folder, "written-by-rehome.txt");
        File.WriteAllBytes(file, []);
        var descriptor = SddlParser.Parse("O:S-1-5-21-4-5-6-2000G:BAD:PAI(D;;0x00040000;;;WD)(A;OICI;0x001f01ff;;;S-1-5-21-4-5-6-2000)");

        new SambaNtaclSecurityStore().WriteDescriptor(file, descriptor.ToBinary());
        var output = PythonSamba.Run(SambaRead, file).Trim();

        Assert.Equal("1 O:S-1-5-21-4-5-6-2000G:BAD:PAI(D;;WD;;;WD)(A;OICI;0x001f01ff;;;S-1-5-21-4-5-6-2000)", output);
    }

    [Fact]
    public void Later_attribute_versions_are_refused_with_a_clear_error()
    {
        var attribute = Hex.Bytes(GoldenDescriptors.SambaNtaclVersion1);
        attribute[0] = 4;
        attribute[2] = 4;

        var error = Assert.Throws<SecurityFormatException>(() => SambaNtacl.Decode(attribute));

        Assert.Contains("version 4", error.Message, StringComparison.Ordinal);
    }
}
