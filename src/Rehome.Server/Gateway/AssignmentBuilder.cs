using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Rehome.Core.Connections;
using Rehome.Core.Policies;
using Rehome.Core.Runs;
using Rehome.Protocol;
using Rehome.Server.Runs;
using Rehome.Server.Secrets;
using Rehome.Server.Store;

namespace Rehome.Server.Gateway;

/// <summary>Turns a leased job into what its device needs to run it, and nothing more.</summary>
public sealed class AssignmentBuilder(RehomeDbContext db, SecretProtector secrets, IOptions<RunEngineOptions> runOptions)
{
    public async Task<JobAssignment> BuildAsync(Job job, CancellationToken ct) => (await BuildManyAsync([job], ct))[0];

    /// <summary>The assignments of many leased jobs, with one query for their mappings, projects, destinations and policies.</summary>
    public async Task<IReadOnlyList<JobAssignment>> BuildManyAsync(IReadOnlyList<Job> jobs, CancellationToken ct)
    {
        var mappingIds = jobs.Select(j => j.MappingId).ToList();
        var contexts = await (
            from m in db.Mappings.AsNoTracking()
            join p in db.Projects.AsNoTracking() on m.ProjectId equals p.Id
            join d in db.Connections.AsNoTracking() on p.DestinationConnectionId equals d.Id
            join policy in db.Policies.AsNoTracking() on p.PolicyId equals policy.Id
            where mappingIds.Contains(m.Id)
            select new { Mapping = m, Destination = d, policy.Settings }).ToDictionaryAsync(c => c.Mapping.Id, ct);
        return [.. jobs.Select(job =>
        {
            var context = contexts[job.MappingId];
            return Build(job, context.Mapping, context.Destination, context.Settings);
        })];
    }

    private JobAssignment Build(Job job, Core.Mappings.Mapping mapping, Connection destination, PolicySettings settings) =>
        new()
        {
            JobId = job.Id,
            RunId = job.RunId,
            LeaseToken = job.LeaseToken!.Value,
            Kind = (AgentJobKind)job.Kind,
            LeaseSeconds = (int)runOptions.Value.LeaseDuration.TotalSeconds,
            Attempt = job.Attempts,
            Mapping = new MappingTarget(mapping.SourceDevice, mapping.DestinationName, mapping.DestinationOu, mapping.PrimaryUser, mapping.DestinationUser),
            Policy = PolicyFor(settings),
            Join = job.Kind == JobKind.RejoinDomain ? JoinFor(destination, mapping.DestinationName, mapping.DestinationOu, job) : null,
        };

    private DestinationJoin JoinFor(Connection destination, string computerName, string? ou, Job job) => new()
    {
        Kind = destination.Kind switch
        {
            ConnectionKind.EntraId => JoinKind.EntraId,
            ConnectionKind.HybridIdentity => JoinKind.HybridIdentity,
            _ => JoinKind.ActiveDirectory,
        },
        Offline = destination.RejoinMethod == RejoinMethod.Offline,
        DomainDnsName = destination.DomainDnsName,
        TenantId = destination.EntraTenantId,
        ComputerName = computerName,
        OrganizationalUnit = ou ?? destination.TargetOu,
        // Active Directory offline: the djoin blob the server made for this device. Entra ID offline: the
        // connection's bulk-enrollment provisioning package, the same for every device.
        ProvisioningData = job.DestinationPayloadProtected is { } data ? secrets.Unprotect(data)
            : destination is { Kind: ConnectionKind.EntraId, RejoinMethod: RejoinMethod.Offline } ? destination.BulkEnrollmentPackage
            : null,
    };

    internal static JobPolicy PolicyFor(PolicySettings settings) => new()
    {
        ForcedStart = settings.ForcedRejoin.Enabled,
        SnoozeAllowed = settings.ForcedRejoin.SnoozeAllowed,
        ForceAfterSeconds = (int)settings.ForcedRejoin.ForceAfter.TotalSeconds,
        Silent = settings.ForcedRejoin.Silent,
        CacheUserCredentials = settings.CacheUserCredentials,
        ReaclMode = (Protocol.ReaclMode)settings.ReaclMode,
        FileSystemPaths = settings.Areas.FileSystemPaths,
        RegistryKeys = settings.Areas.RegistryKeys,
        IgnoredFileSystemPaths = settings.AreasToIgnore.FileSystemPaths,
        IgnoredRegistryKeys = settings.AreasToIgnore.RegistryKeys,
    };
}
