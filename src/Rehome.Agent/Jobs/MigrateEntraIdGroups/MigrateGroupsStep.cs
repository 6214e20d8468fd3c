using Rehome.Protocol;

namespace Rehome.Agent.Jobs.MigrateEntraIdGroups;

/// <summary>
/// Asks the server (which holds the Graph credentials) to add the destination device object to the groups
/// mapped from the source device's group memberships.
/// </summary>
public sealed class MigrateGroupsStep(string? sourceEntraDeviceId) : JobStep
{
    public override string Name => "AddToDestinationGroups";

    public override async Task RunAsync(JobContext context)
    {
        var membership = await context.Platform.Membership.GetAsync(context.Cancellation);
        var request = new DirectoryActionRequest
        {
            LeaseToken = context.Assignment.LeaseToken,
            Action = DirectoryAction.MigrateEntraIdGroups,
            SourceEntraDeviceId = sourceEntraDeviceId ?? membership.EntraDeviceId,
            DestinationEntraDeviceId = membership.EntraDeviceId,
        };
        var answer = await context.CallServerAsync(ct => context.Gateway.RunDirectoryActionAsync(context.JobId, request, ct));
        foreach (var item in answer.Items)
        {
            context.Report(item);
        }
        var failed = answer.Items.Count(i => i.Outcome == ItemOutcome.Failed);
        context.SetProgress(answer.Items.Count, answer.Items.Count, answer.Items.Count - failed, failed);
        if (answer.State == DirectoryActionState.Failed)
        {
            throw new StepFailedException("GroupMigrationFailed", answer.Message ?? "The server could not migrate the groups.");
        }
        context.Log.Information(answer.Message ?? "Groups migrated.");
    }
}
