using Rehome.Agent.Platform;
using Rehome.Protocol;
using Rehome.Security.Reacl;

namespace Rehome.Agent.Jobs.Common;

/// <summary>
/// Which Re-ACL areas a job walks, in order, and how it opens each; also where each area keeps its files in the
/// job's folder (a checkpoint, an undo journal of descriptors, one of holders), so that a revert finds them.
/// </summary>
public sealed class ReaclScope(Func<JobContext, IReadOnlyList<ReaclArea>> areasOf, Func<JobContext, ReaclArea, OpenedArea> open)
{
    /// <summary>Paths of the platform's path store as the one Files area (the profile job's folder).</summary>
    public static ReaclScope Paths(Func<JobContext, (IReadOnlyList<string> Areas, IReadOnlyList<string> Ignored)> pathsOf) =>
        new(_ => [ReaclArea.Files], (context, area) =>
        {
            var (roots, ignored) = pathsOf(context);
            return new OpenedArea(area, context.Platform.SecurityStore, roots, ignored, null);
        });

    public IReadOnlyList<ReaclArea> Of(JobContext context) => areasOf(context);

    /// <summary>Opens the area as the job's assignment says (throws <see cref="AreaNotSupportedException"/> when the device cannot).</summary>
    public OpenedArea Open(JobContext context, ReaclArea area) => open(context, area);

    public static string CheckpointFile(ReaclArea area) => $"reacl.{area}.checkpoint";

    public static string UndoFile(ReaclArea area) => $"reacl.{area}.undo";

    public static string HoldersUndoFile(ReaclArea area) => $"reacl.{area}.holders.undo";
}

/// <summary>What a revert restored in one area, and the items it could not.</summary>
public sealed record AreaRevert(AreaCount Count, IReadOnlyList<WalkError> Errors);
