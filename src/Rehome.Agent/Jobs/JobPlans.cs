using Rehome.Agent.Jobs.Common;
using Rehome.Agent.Jobs.MigrateEntraIdGroups;
using Rehome.Agent.Jobs.MigratePermissions;
using Rehome.Agent.Jobs.MigrateUserProfile;
using Rehome.Agent.Jobs.RegisterAutopilot;
using Rehome.Agent.Jobs.RejoinDomain;
using Rehome.Protocol;

namespace Rehome.Agent.Jobs;

/// <summary>The steps of each job, in order. A step's name is its identity in the journal: rename with care.</summary>
public static class JobPlans
{
    /// <param name="kind">The job.</param>
    /// <param name="enrolledAs">The device as it enrolled (its source Entra ID device id, which a rejoin removes).</param>
    public static IReadOnlyList<JobStep> For(AgentJobKind kind, DeviceFacts enrolledAs) => kind switch
    {
        AgentJobKind.RejoinDomain =>
        [
            new RecordMembershipStep(),
            new AskUserStep("The move of your device to its new organisation"),
            new LockSessionStep(),
            new PrepareJoinStep(),
            new LeaveSourceStep(),
            new JoinDestinationStep(),
            new CarryOverLocalAdministratorsStep(),
            new RestartStep(),
            new ConfirmDestinationStep(),
        ],
        AgentJobKind.MigratePermissions =>
        [
            new MapIdentitiesStep(PermissionsAreas.Of, PermissionsAreas.MapFile),
            new TranslateDescriptorsStep(PermissionsAreas.Of, PermissionsAreas.MapFile),
        ],
        AgentJobKind.MigrateUserProfile =>
        [
            new FindProfileStep(),
            new AskUserStep("The hand-over of your profile to your new account"),
            new LockSessionStep(),
            new MapIdentitiesStep(FindProfileStep.AreasOf, FindProfileStep.MapFile, c => [FindProfileStep.Source(c).Sid]),
            new TranslateDescriptorsStep(FindProfileStep.AreasOf, FindProfileStep.MapFile),
            new RepointProfileStep(),
            new UnlockSessionStep(),
        ],
        AgentJobKind.MigrateEntraIdGroups => [new MigrateGroupsStep(enrolledAs.EntraDeviceId)],
        AgentJobKind.RegisterAutopilot => [new ImportAutopilotStep()],
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown job kind."),
    };
}
