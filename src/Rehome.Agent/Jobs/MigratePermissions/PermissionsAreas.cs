namespace Rehome.Agent.Jobs.MigratePermissions;

/// <summary>The policy's areas (files and registry) minus the areas to ignore.</summary>
public static class PermissionsAreas
{
    public const string MapFile = "permissions.sidmap.json";

    public static (IReadOnlyList<string> Areas, IReadOnlyList<string> Ignored) Of(JobContext context)
    {
        var policy = context.Assignment.Policy;
        return ([.. policy.FileSystemPaths, .. policy.RegistryKeys], [.. policy.IgnoredFileSystemPaths, .. policy.IgnoredRegistryKeys]);
    }
}
