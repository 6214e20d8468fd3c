using System.Text.Json;
using Rehome.Agent.Jobs.Common;
using Rehome.Agent.Platform;
using Rehome.Protocol;

namespace Rehome.Agent.Jobs.RejoinDomain;

/// <summary>Records where the device belongs before anything changes: the rollback goes back there.</summary>
public sealed class RecordMembershipStep : JobStep
{
    internal const string Key = "rejoin.previous";

    public override async Task RunAsync(JobContext context)
    {
        if (context.Journal.Get(Key) is not null)
        {
            return;
        }
        var membership = await context.Platform.GetMembershipAsync(context.Cancellation);
        context.Journal.Set(Key, JsonSerializer.Serialize(membership, AgentProtocol.JsonOptions));
        context.Log.Information($"The device is {membership.ComputerName}, {membership.JoinType} {membership.DomainName ?? membership.TenantId}.");
    }

    internal static DeviceMembership Previous(JobContext context) =>
        JsonSerializer.Deserialize<DeviceMembership>(context.Journal.Get(Key) ?? throw new InvalidOperationException("No recorded membership."), AgentProtocol.JsonOptions)!;
}

/// <summary>Stages the destination join (offline data checked and kept) while the device still belongs to its source.</summary>
public sealed class PrepareJoinStep : JobStep
{
    public override Task RunAsync(JobContext context)
    {
        var join = context.Assignment.Join ?? throw new StepFailedException("NoDestination", "The job came without its destination.");
        context.Log.Information($"Preparing the {(join.Offline ? "offline" : "online")} join to {join.DomainDnsName ?? join.TenantId} as {join.ComputerName}.");
        return context.Platform.PrepareJoinAsync(join, context.Cancellation);
    }
}

/// <summary>Leaves the source. From here on the job is finished, not stopped: the device must reach its destination.</summary>
public sealed class LeaveSourceStep : JobStep
{
    public override bool PointOfNoReturn => true;

    public override async Task<bool> IsAlreadyDoneAsync(JobContext context)
    {
        var now = await context.Platform.GetMembershipAsync(context.Cancellation);
        var before = RecordMembershipStep.Previous(context);
        return now.JoinType != before.JoinType || now.DomainName != before.DomainName || now.TenantId != before.TenantId;
    }

    public override async Task RunAsync(JobContext context)
    {
        await context.Platform.LeaveSourceAsync(RecordMembershipStep.Previous(context), context.Assignment.Policy.CacheUserCredentials, context.Cancellation);
        context.Log.Information("Left the source.");
    }

    public override Task UndoAsync(JobContext context) =>
        context.Platform.RestoreMembershipAsync(RecordMembershipStep.Previous(context), CancellationToken.None);
}

/// <summary>Joins the destination with the staged data, under the mapping's destination name.</summary>
public sealed class JoinDestinationStep : JobStep
{
    public override async Task<bool> IsAlreadyDoneAsync(JobContext context)
    {
        var join = context.Assignment.Join!;
        var now = await context.Platform.GetMembershipAsync(context.Cancellation);
        return string.Equals(now.ComputerName, join.ComputerName, StringComparison.OrdinalIgnoreCase)
            && (join.Kind == JoinKind.EntraId ? now.JoinType == DeviceJoinType.EntraId : string.Equals(now.DomainName, join.DomainDnsName, StringComparison.OrdinalIgnoreCase));
    }

    public override async Task RunAsync(JobContext context)
    {
        var join = context.Assignment.Join!;
        await context.Platform.JoinDestinationAsync(join, context.Cancellation);
        context.Log.Information($"Joined {join.DomainDnsName ?? join.TenantId} as {join.ComputerName}.");
    }

    public override Task UndoAsync(JobContext context) =>
        context.Platform.RestoreMembershipAsync(RecordMembershipStep.Previous(context), CancellationToken.None);
}

/// <summary>
/// Carries device permissions over: the local Administrators group gets the destination identity of each
/// mapped source member (the source members stay, for coexistence until a permissions clean-up).
/// </summary>
public sealed class CarryOverLocalAdministratorsStep : JobStep
{
    private const string MapFile = "administrators.sidmap.json";
    private const string AddedKey = "rejoin.administratorsAdded";

    public override async Task RunAsync(JobContext context)
    {
        var members = await context.Platform.GetLocalAdministratorsAsync(context.Cancellation);
        var map = await Identities.MapAsync(context, [.. members.Where(Identities.IsMappable)], MapFile);
        var added = new List<string>();
        foreach (var member in members)
        {
            if (map.TryGetDestination(Security.Sids.SecurityIdentifier.Parse(member), out var destination) && !members.Contains(destination.ToString()))
            {
                await context.Platform.AddLocalAdministratorAsync(destination.ToString(), context.Cancellation);
                added.Add(destination.ToString());
                context.Report(new ItemResult($"Administrators: {destination}", ItemOutcome.Changed, null));
            }
        }
        context.Journal.Set(AddedKey, string.Join(',', added));
        context.Log.Information($"Local Administrators: {added.Count} destination identities added.");
    }

    public override async Task UndoAsync(JobContext context)
    {
        foreach (var sid in (context.Journal.Get(AddedKey) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            await context.Platform.RemoveLocalAdministratorAsync(sid, CancellationToken.None);
        }
    }
}

/// <summary>
/// Restarts the device to finish the join. The boot count is journaled first, so after the restart the step
/// sees it has happened and the job completes.
/// </summary>
public sealed class RestartStep : JobStep
{
    private const string Key = "restart.bootCount";

    public override Task<bool> IsAlreadyDoneAsync(JobContext context) =>
        Task.FromResult(long.TryParse(context.Journal.Get(Key), out var before) && context.Platform.BootCount > before);

    public override async Task RunAsync(JobContext context)
    {
        context.Journal.Set(Key, context.Platform.BootCount.ToString(System.Globalization.CultureInfo.InvariantCulture));
        context.Log.Information("Restarting the device to finish the join.");
        await context.Session.NotifyAsync("Your device restarts now to finish moving to its new organisation.", context.Cancellation);
        await context.Platform.RestartAsync("Rehome: rejoin to the destination", context.Cancellation);
        // The platform returns while Windows shuts down: the agent ends here either way.
        throw new DeviceRestartingException("Rehome: rejoin to the destination");
    }
}

/// <summary>Tells the user where the device belongs now (after the restart).</summary>
public sealed class ConfirmDestinationStep : JobStep
{
    public override async Task RunAsync(JobContext context)
    {
        var join = context.Assignment.Join!;
        if (!await new JoinDestinationStep().IsAlreadyDoneAsync(context))
        {
            throw new StepFailedException("NotInDestination", "After the restart the device is not in the destination.");
        }
        if (context.Session.LoggedOnUsers.Count > 0 && !context.Assignment.Policy.Silent)
        {
            await context.Session.NotifyAsync($"Your device now belongs to {join.DomainDnsName ?? join.TenantId} as {join.ComputerName}.", context.Cancellation);
        }
    }
}
