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
    public async Task<JobAssignment> BuildAsync(Job job, CancellationToken ct)
    {
        var context = await (
            from m in db.Mappings.AsNoTracking()
            join p in db.Projects.AsNoTracking() on m.ProjectId equals p.Id
            join d in db.Connections.AsNoTracking() on p.DestinationConnectionId equals d.Id
            join policy in db.Policies.AsNoTracking() on p.PolicyId equals policy.Id
            where m.Id == job.MappingId
            select new { Mapping = m, Destination = d, policy.Settings }).FirstAsync(ct);
        var mapping = context.Mapping;
        return new JobAssignment
        {
            JobId = job.Id,
            RunId = job.RunId,
            LeaseToken = job.LeaseToken!.Value,
            Kind = (AgentJobKind)job.Kind,
            LeaseSeconds = (int)runOptions.Value.LeaseDuration.TotalSeconds,
            Attempt = job.Attempts,
            Mapping = new MappingTarget(mapping.SourceDevice, mapping.DestinationName, mapping.DestinationOu, mapping.PrimaryUser, mapping.DestinationUser),
            Policy = PolicyFor(context.Settings),
            Join = job.Kind == JobKind.RejoinDomain ? JoinFor(context.Destination, mapping.DestinationName, mapping.DestinationOu, job) : null,
        };
    }

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
