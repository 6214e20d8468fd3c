namespace Rehome.Protocol;

/// <summary>
/// The device objects, beyond the policy's file and registry paths, whose permissions migrate (the same names and
/// numbers as the server's policy area kinds).
/// </summary>
[Flags]
public enum DeviceAreas
{
    None = 0,
    Shares = 1,
    Services = 2,
    Printers = 4,
    LocalGroups = 8,
    UserRights = 16,
    ScheduledTasks = 32,

    /// <summary>The registry hives of every user profile (NTUSER.DAT and UsrClass.dat), loaded when not in use.</summary>
    UserHives = 64,
    All = Shares | Services | Printers | LocalGroups | UserRights | ScheduledTasks | UserHives,
}

/// <summary>One area a Re-ACL works on, as reported with its own counts.</summary>
public enum ReaclArea
{
    Files,
    Registry,
    UserHives,
    Shares,
    Services,
    Printers,
    ScheduledTasks,
    LocalGroups,
    UserRights,

    /// <summary>The profile job's ProfileList entry.</summary>
    ProfileList,
}

/// <summary>
/// What a Re-ACL did in one area (in a dry run: what it would do). <see cref="Problem"/> says why an area was not
/// done (the device cannot do it, it failed as a whole); item errors count in <see cref="Failed"/>.
/// </summary>
public sealed record AreaCount(ReaclArea Area, int Seen, int Changed, int Failed, string? Problem = null)
{
    /// <summary>One per area at most.</summary>
    public const int MaxAreas = 16;
}
