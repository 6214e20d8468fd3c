using Rehome.Agent.Jobs.MigratePermissions;
using Rehome.Agent.Platform;
using Rehome.Protocol;
using Rehome.Security.Stores;

namespace Rehome.Agent.Tests.Permissions;

/// <summary>Which file roots a permissions policy selects: its paths, none, or every fixed volume when it says "*".</summary>
public sealed class PermissionsAreasTests
{
    private sealed class NoStore : ISecurityStore
    {
        public bool PropagatesInheritance => false;

        public byte[] ReadDescriptor(string path) => throw new NotSupportedException();

        public void WriteDescriptor(string path, ReadOnlySpan<byte> descriptor) => throw new NotSupportedException();

        public IEnumerable<string> EnumerateChildren(string path) => [];
    }

    private static readonly DeviceAreaSet Device = new(new NoStore(), () => [@"C:\", @"E:\"], new Dictionary<ReaclArea, Func<JobPolicy, OpenedArea>>());

    [Fact]
    public void A_policy_without_file_paths_walks_no_files()
    {
        var policy = new JobPolicy { RegistryKeys = [@"HKLM\SOFTWARE"], Areas = DeviceAreas.LocalGroups };

        Assert.Equal([ReaclArea.Registry, ReaclArea.LocalGroups], PermissionsAreas.Of(policy));
    }

    [Fact]
    public void A_star_among_the_file_paths_means_every_fixed_volume_beside_the_other_paths()
    {
        var policy = new JobPolicy { FileSystemPaths = ["*", @"\\fs01\share"] };

        using var files = Device.Open(ReaclArea.Files, policy);

        Assert.Equal([ReaclArea.Files], PermissionsAreas.Of(policy));
        Assert.Equal([@"C:\", @"E:\", @"\\fs01\share"], files.Roots);
    }

    [Fact]
    public void Paths_without_a_star_are_walked_as_given()
    {
        using var files = Device.Open(ReaclArea.Files, new JobPolicy { FileSystemPaths = [@"D:\Data"] });

        Assert.Equal([@"D:\Data"], files.Roots);
    }
}
