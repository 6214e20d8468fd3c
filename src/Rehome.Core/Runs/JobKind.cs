namespace Rehome.Core.Runs;

/// <summary>The five migration jobs, in the order a run performs them on one mapping.</summary>
public enum JobKind
{
    RejoinDomain = 1,
    MigratePermissions = 2,
    MigrateUserProfile = 3,
    MigrateEntraIdGroups = 4,
    RegisterAutopilot = 5,
}

/// <summary>Names people read for the job kinds (the console's Migration menu uses the same words).</summary>
public static class JobKinds
{
    public static IReadOnlyList<JobKind> All { get; } = Enum.GetValues<JobKind>();

    public static string DisplayName(this JobKind kind) => kind switch
    {
        JobKind.RejoinDomain => "Rejoin domain",
        JobKind.MigratePermissions => "Migrate permissions",
        JobKind.MigrateUserProfile => "Migrate Windows user profile",
        JobKind.MigrateEntraIdGroups => "Migrate Entra ID groups",
        JobKind.RegisterAutopilot => "Register Windows Autopilot",
        _ => kind.ToString(),
    };

    /// <summary>Whether the job kind needs the device to have rejoined the destination first.</summary>
    public static bool NeedsRejoin(this JobKind kind) => kind is JobKind.MigratePermissions or JobKind.MigrateUserProfile;

    /// <summary>Whether the job kind can run as a dry run (a preview that counts what would change) and be reverted.</summary>
    public static bool CanDryRun(this JobKind kind) => kind is JobKind.MigratePermissions or JobKind.MigrateUserProfile;
}
