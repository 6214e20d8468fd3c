using Rehome.Agent.Jobs.Common;
using Rehome.Agent.Jobs.MigrateEntraIdGroups;
using Rehome.Agent.Jobs.MigratePermissions;
using Rehome.Agent.Jobs.MigrateUserProfile;
using Rehome.Agent.Jobs.RegisterAutopilot;
using Rehome.Agent.Jobs.RejoinDomain;
using Rehome.Protocol;

namespace Rehome.Agent.Jobs;

/// <summary>
/// A job's steps, in order, and the way back for a job that can leave its source: after the point of no return a
/// step that fails (every attempt spent) hands over to <see cref="ReturnSteps"/>, which put the device back into
/// its source through the return ticket.
/// </summary>
public sealed record JobPlan(IReadOnlyList<JobStep> Steps, IReadOnlyList<JobStep> ReturnSteps, bool KeepsDeviceAwake)
{
    /// <summary>
    /// How the job ends when <paramref name="step"/> fails every time (null when the plan has no such step):
    /// Failed before the point of no return (rolled back) and for a step whose failure sends the device back to
    /// its source; Exceptions for a step after which the device stays where it is.
    /// </summary>
    public CompletionStatus? EndWhenAlwaysFailing(string step)
    {
        var index = Steps.ToList().FindIndex(s => s.Name == step);
        if (index < 0)
        {
            return null;
        }
        var afterLeaving = Steps.Take(index + 1).Any(s => s.PointOfNoReturn);
        return afterLeaving && Steps[index].WhenFailedAfterLeaving == AfterLeavingFailure.CarryOn ? CompletionStatus.Exceptions : CompletionStatus.Failed;
    }
}

/// <summary>The steps of each job, in order. A step's name is its identity in the journal: rename with care.</summary>
public static class JobPlans
{
    private const string RejoinNotice = "Your device is moving to its new organisation. Sign-in is back when it is done.";
    private const string ProfileNotice = "Your profile is being handed over to your new account. Sign-in is back when it is done.";

    /// <summary>The plan of an assignment: a revert of an earlier job has its own, one step; any other job its kind's.</summary>
    public static JobPlan For(JobAssignment assignment, DeviceFacts enrolledAs) => assignment switch
    {
        { RevertOf: not null } => new([new RevertFinishedJobStep(enrolledAs)], [], KeepsDeviceAwake: true),
        { DryRun: true, Kind: AgentJobKind.MigrateUserProfile } => ProfilePreview,
        _ => For(assignment.Kind, enrolledAs),
    };

    /// <summary>
    /// A profile dry run only counts: no prompt, no lock, no wait for the owner to sign out (a signed-in owner's
    /// hives are read where Windows loaded them); its steps write nothing to the device.
    /// </summary>
    private static JobPlan ProfilePreview => new(
    [
        new FindProfileStep(),
        new MapProfileIdentitiesStep(),
        new TranslateProfileFolderStep(),
        new TranslateProfileHivesStep(),
        new CopyProfileListStep(),
        new ReportNotCarriedOverStep(),
    ], [], KeepsDeviceAwake: true);

    /// <param name="kind">The job.</param>
    /// <param name="enrolledAs">The device as it enrolled (its source Entra ID device id, which a rejoin removes).</param>
    public static JobPlan For(AgentJobKind kind, DeviceFacts enrolledAs) => kind switch
    {
        AgentJobKind.RejoinDomain => new(
        [
            new RecordMembershipStep(),
            new AskUserStep("The move of your device to its new organisation"),
            new CacheCredentialsStep(),
            new PrepareJoinStep(),
            new LockSessionStep(RejoinNotice),
            new CreateBreakGlassStep(),
            new ExportAppAssociationsStep(),
            new ObtainReturnTicketStep(),
            new LeaveSourceStep(),
            new JoinDestinationStep(),
            new RestartStep("Restart", "to finish moving to its new organisation"),
            new ConfirmDestinationStep(),
            new DiscardStagedStep(),
            new UnlockSessionStep(),
            new WaitForHybridRegistrationStep(),
            new CarryOverLocalAdministratorsStep(),
            new ImportAppAssociationsStep(),
            new EscrowBitLockerKeysStep(),
            new RemoveBreakGlassStep(),
        ],
        [
            new ApplyReturnTicketStep(),
            new RestartStep("RestartToSource", "to go back to its organisation", ApplyReturnTicketStep.Applied),
            new ConfirmSourceStep(),
            new UnlockSessionStep(),
            new RemoveBreakGlassStep(),
            new DiscardStagedStep(),
        ],
        KeepsDeviceAwake: true),
        AgentJobKind.MigratePermissions => new(
        [
            new MapIdentitiesStep(PermissionsAreas.Scope, PermissionsAreas.MapFile),
            new TranslateDescriptorsStep(PermissionsAreas.Scope, PermissionsAreas.MapFile),
        ], [], KeepsDeviceAwake: true),
        AgentJobKind.MigrateUserProfile => new(
        [
            new FindProfileStep(),
            new AskUserStep("The hand-over of your profile to your new account"),
            // The owner signs out first (a locked session can be neither unlocked nor signed out of), then sign-in
            // is blocked so that nobody signs back in during the hand-over.
            new WaitForSignOutStep(),
            new LockSessionStep(ProfileNotice),
            new MapProfileIdentitiesStep(),
            new TranslateProfileFolderStep(),
            new TranslateProfileHivesStep(),
            new CopyProfileListStep(),
            new ReportNotCarriedOverStep(),
            new UnlockSessionStep(),
        ], [], KeepsDeviceAwake: true),
        AgentJobKind.MigrateEntraIdGroups => new([new MigrateGroupsStep(enrolledAs.EntraDeviceId)], [], KeepsDeviceAwake: false),
        AgentJobKind.RegisterAutopilot => new([new ImportAutopilotStep()], [], KeepsDeviceAwake: false),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown job kind."),
    };
}
