using System.Globalization;
using System.Text.Json;
using Rehome.Agent.Platform;
using Rehome.Agent.Polling;
using Rehome.Protocol;

namespace Rehome.Agent.Jobs.RejoinDomain;

/// <summary>
/// Records, before anything changes, everything going back needs: where the device belongs and under which
/// name, and the settings the rejoin may change. The rollback and the return to the source read it.
/// </summary>
public sealed class RecordMembershipStep : JobStep
{
    internal const string Key = "rejoin.previous";
    internal const string CachedLogonsKey = "rejoin.previousCachedLogons";

    public override async Task RunAsync(JobContext context)
    {
        if (context.Journal.Get(Key) is not null)
        {
            return;
        }
        var membership = await context.Platform.Membership.GetAsync(context.Cancellation);
        var cachedLogons = await context.Platform.Settings.GetCachedLogonsCountAsync(context.Cancellation);
        context.Journal.Set(CachedLogonsKey, cachedLogons?.ToString(CultureInfo.InvariantCulture) ?? "");
        context.Journal.Set(Key, JsonSerializer.Serialize(membership, AgentProtocol.JsonOptions));
        context.Log.Information($"The device is {membership.ComputerName}, {membership.JoinType} {membership.DomainName ?? membership.TenantId}.");
    }

    internal static DeviceMembership Previous(JobContext context) =>
        JsonSerializer.Deserialize<DeviceMembership>(context.Journal.Get(Key) ?? throw new InvalidOperationException("No recorded membership."), AgentProtocol.JsonOptions)!;
}

/// <summary>
/// When the policy asks for it (Active Directory destinations), has the signed-in user confirm their destination
/// account once so that Windows caches the logon: the first sign-in after an offline rejoin then needs no domain
/// controller. Windows must cache logons at all, so a cache size of zero is raised (and put back by the rollback).
/// Not being able to cache is reported, never a failure: the user signs in once a domain controller answers.
/// </summary>
public sealed class CacheCredentialsStep : JobStep
{
    private const int MinimumCachedLogons = 10;

    public override bool UndoOnStop => true;

    public override async Task RunAsync(JobContext context)
    {
        var join = Join(context);
        if (!context.Assignment.Policy.CacheUserCredentials || join.Kind == JoinKind.EntraId)
        {
            return;
        }
        var count = await context.Platform.Settings.GetCachedLogonsCountAsync(context.Cancellation);
        if (count is < MinimumCachedLogons)
        {
            await context.Platform.Settings.SetCachedLogonsCountAsync(MinimumCachedLogons, context.Cancellation);
            context.Log.Information($"Windows cached {count} domain logons; now {MinimumCachedLogons}.");
        }
        if (context.Assignment.Mapping.DestinationUser is not { } user || context.Assignment.Policy.Silent)
        {
            return;
        }
        var outcome = await context.Session.CacheCredentialsAsync(user, context.Cancellation);
        if (outcome == CredentialCaching.Cached)
        {
            context.Log.Information($"The credentials of {user} are cached for the first sign-in.");
            return;
        }
        context.Log.Warning($"The credentials of {user} are not cached ({outcome}): the first sign-in needs a domain controller of {join.DomainDnsName}.");
        context.Report(new ItemResult($"Cached credentials: {user}", ItemOutcome.Skipped, outcome.ToString()));
    }

    public override async Task UndoAsync(JobContext context)
    {
        var saved = context.Journal.Get(RecordMembershipStep.CachedLogonsKey);
        if (saved is not null)
        {
            await context.Platform.Settings.SetCachedLogonsCountAsync(
                int.TryParse(saved, CultureInfo.InvariantCulture, out var count) ? count : null, CancellationToken.None);
        }
    }

    internal static DestinationJoin Join(JobContext context) =>
        context.Assignment.Join ?? throw new StepFailedException("NoDestination", "The job came without its destination.");
}

/// <summary>Stages the destination join (offline data, one-time password or provisioning package) while the device still belongs to its source.</summary>
public sealed class PrepareJoinStep : JobStep
{
    public override bool UndoOnStop => true;

    public override async Task RunAsync(JobContext context)
    {
        var join = CacheCredentialsStep.Join(context);
        context.Log.Information($"Preparing the {(join.Offline ? "offline" : "online")} join to {join.DomainDnsName ?? join.TenantId} as {join.ComputerName}.");
        var package = await DownloadAsync(context, join, JoinPurpose.Destination);
        await context.Platform.Membership.StageAsync(JoinPurpose.Destination, join, package, context.Cancellation);
    }

    public override Task UndoAsync(JobContext context) => context.Platform.Membership.DiscardStagedAsync(CancellationToken.None);

    internal static async Task<byte[]?> DownloadAsync(JobContext context, DestinationJoin join, JoinPurpose purpose)
    {
        if (join.PackageBytes is not { } bytes)
        {
            return null;
        }
        if (bytes <= 0 || bytes > GatewayClient.MaxPackageBytes)
        {
            throw new StepFailedException("BadPackage", $"The server announced a provisioning package of {bytes} bytes.");
        }
        var package = await context.CallServerAsync(ct => context.Gateway.DownloadPackageAsync(context.JobId, context.Assignment.LeaseToken, purpose, ct));
        context.Log.Information($"Downloaded the {purpose.ToString().ToLowerInvariant()} provisioning package ({package.Length} bytes).");
        return package;
    }
}

/// <summary>
/// Creates the break-glass local administrator the source connection asks for, so that someone can sign in
/// whatever happens to the membership; removed at the end of the job (and by the rollback).
/// </summary>
public sealed class CreateBreakGlassStep : JobStep
{
    internal const string CreatedKey = "rejoin.breakGlassCreated";

    public override bool UndoOnStop => true;

    public override async Task RunAsync(JobContext context)
    {
        if (context.Assignment.BreakGlass is not { } account)
        {
            return;
        }
        if (await context.Platform.Accounts.CreateBreakGlassAsync(account, context.Cancellation))
        {
            context.Journal.Set(CreatedKey, account.UserName);
            context.Log.Information($"Break-glass administrator {account.UserName} ready.");
        }
        else
        {
            context.Log.Warning($"A local account {account.UserName} existed before Rehome: it is left as it was (and not removed at the end).");
        }
    }

    public override Task UndoAsync(JobContext context) => RemoveAsync(context, CancellationToken.None);

    internal static async Task RemoveAsync(JobContext context, CancellationToken ct)
    {
        if (context.Journal.Get(CreatedKey) is { Length: > 0 } name)
        {
            await context.Platform.Accounts.RemoveBreakGlassAsync(name, ct);
            context.Journal.Set(CreatedKey, "");
            context.Log.Information($"Break-glass administrator {name} removed.");
        }
    }
}

/// <summary>Exports the default app associations, which a new domain's first sign-in would reset; imported after the join.</summary>
public sealed class ExportAppAssociationsStep : JobStep
{
    internal const string FileName = "default-app-associations.xml";
    internal const string ExportedKey = "rejoin.appAssociationsExported";

    public override async Task RunAsync(JobContext context)
    {
        var exported = await context.Platform.Settings.ExportDefaultAppAssociationsAsync(context.Journal.PathOf(FileName), context.Cancellation);
        context.Journal.Set(ExportedKey, exported ? "true" : "false");
        context.Log.Information(exported ? "Default app associations exported." : "No default app associations to export.");
    }
}

/// <summary>
/// Asks the server for the return ticket right before the device leaves: made now, because making it resets the
/// source computer account's password. No ticket, no leaving: the job rolls back with the device untouched.
/// The ticket's secret part is staged by the platform in its protected folder; the journal keeps only where it leads.
/// </summary>
public sealed class ObtainReturnTicketStep : JobStep
{
    internal const string Key = "rejoin.returnTicket";

    /// <summary>
    /// Set the moment the server answered with a ticket: making it reset the source computer account's password,
    /// so from then on the job is past its point of no return (a failure goes back through a ticket, never rolls back).
    /// </summary>
    internal const string ReceivedKey = "rejoin.returnTicketReceived";

    public override async Task RunAsync(JobContext context) => await ObtainAsync(context);

    /// <summary>Asks the server for a (new) return ticket, stages it and journals where it leads.</summary>
    internal static async Task<DestinationJoin> ObtainAsync(JobContext context)
    {
        var previous = RecordMembershipStep.Previous(context);
        DestinationJoin ticket;
        try
        {
            ticket = await context.CallServerAsync(ct => context.Gateway.GetReturnTicketAsync(context.JobId,
                new ReturnTicketRequest(context.Assignment.LeaseToken, previous.ComputerName, previous.JoinType, previous.DomainName, previous.TenantId), ct));
        }
        catch (GatewayRejectedException e)
        {
            throw new StepFailedException("NoReturnTicket",
                $"The server made no return ticket for {previous.ComputerName}, so the device does not leave {previous.DomainName ?? previous.TenantId}: {e.Message}");
        }
        context.Journal.Set(ReceivedKey, "true");
        var expected = previous.JoinType == DeviceJoinType.EntraId ? ticket.Kind == JoinKind.EntraId : ticket.Kind != JoinKind.EntraId;
        if (!string.Equals(ticket.ComputerName, previous.ComputerName, StringComparison.OrdinalIgnoreCase) || !expected)
        {
            throw new StepFailedException("BadReturnTicket", $"The return ticket leads to {ticket.DomainDnsName ?? ticket.TenantId} as {ticket.ComputerName}, not back to where the device is.");
        }
        var package = await PrepareJoinStep.DownloadAsync(context, ticket, JoinPurpose.Return);
        await context.Platform.Membership.StageAsync(JoinPurpose.Return, ticket, package, context.Cancellation);
        context.Journal.Set(Key, JsonSerializer.Serialize(ticket with { ProvisioningData = null, OneTimePassword = null }, AgentProtocol.JsonOptions));
        context.Log.Information($"Return ticket to {ticket.DomainDnsName ?? ticket.TenantId} as {ticket.ComputerName} staged.");
        return ticket;
    }

    /// <summary>Where the return ticket leads (without its secret part).</summary>
    internal static DestinationJoin Ticket(JobContext context) =>
        JsonSerializer.Deserialize<DestinationJoin>(context.Journal.Get(Key) ?? throw new StepFailedException("NoReturnTicket", "No return ticket was staged."), AgentProtocol.JsonOptions)!;
}
