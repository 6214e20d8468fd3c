using Rehome.Protocol;

namespace Rehome.Agent.Jobs.RejoinDomain;

/// <summary>
/// The way back: withdraws whatever destination join is pending and applies the return ticket under the source
/// name. Nothing to do when the device is in its source already (it never left, or the leave did not take).
/// </summary>
public sealed class ApplyReturnTicketStep : JobStep
{
    internal const string NeededKey = "return.applied";

    public override async Task<bool> IsAlreadyDoneAsync(JobContext context)
    {
        var ticket = ObtainReturnTicketStep.Ticket(context);
        var now = await context.Platform.Membership.GetAsync(context.Cancellation);
        return context.Journal.Get(NeededKey) is not null && (now.IsIn(ticket) || JoinDestinationStep.IsPending(now, ticket.DomainDnsName ?? ticket.TenantId, ticket.ComputerName));
    }

    public override async Task RunAsync(JobContext context)
    {
        var previous = RecordMembershipStep.Previous(context);
        var now = await context.Platform.Membership.GetAsync(context.Cancellation);
        if (now.SameMembershipAs(previous) && now.PendingJoin is null
            && string.Equals(now.PendingComputerName ?? now.ComputerName, previous.ComputerName, StringComparison.OrdinalIgnoreCase))
        {
            context.Journal.Set(NeededKey, "false");
            context.Log.Information($"The device is still in {previous.DomainName ?? previous.TenantId} as {previous.ComputerName}: nothing to return.");
            return;
        }
        var ticket = ObtainReturnTicketStep.Ticket(context);
        await context.Platform.Membership.ApplyAsync(JoinPurpose.Return, ticket, context.Cancellation);
        context.Journal.Set(NeededKey, "true");
        context.Log.Warning($"Going back to {ticket.DomainDnsName ?? ticket.TenantId} as {ticket.ComputerName} through the return ticket; it completes at the restart.");
    }

    internal static bool Applied(JobContext context) => context.Journal.Get(NeededKey) == "true";
}

/// <summary>After the return restart: the device must be back in its source, and its membership must work.</summary>
public sealed class ConfirmSourceStep : JobStep
{
    public override async Task RunAsync(JobContext context)
    {
        var previous = RecordMembershipStep.Previous(context);
        var now = await context.Platform.Membership.GetAsync(context.Cancellation);
        if (!now.IsBackIn(previous))
        {
            throw new StepFailedException("NotBackInSource",
                $"After the return restart the device is {now.JoinType} {now.DomainName ?? now.TenantId} as {now.ComputerName}, not back in {previous.DomainName ?? previous.TenantId} as {previous.ComputerName}.");
        }
        if (ApplyReturnTicketStep.Applied(context))
        {
            var verified = await context.Platform.Membership.VerifyAsync(ObtainReturnTicketStep.Ticket(context), context.Cancellation);
            context.Log.Information(verified.Joined ? $"Back in the source: {verified.Detail}" : $"Back in the source; not verified yet: {verified.Detail}");
        }
    }
}
