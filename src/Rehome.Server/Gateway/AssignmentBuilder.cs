using Microsoft.EntityFrameworkCore;
using Rehome.Core.Connections;
using Rehome.Core.Policies;
using Rehome.Core.Runs;
using Rehome.Protocol;
using Rehome.Server.Runs;
using Rehome.Server.Secrets;
using Rehome.Server.Store;

namespace Rehome.Server.Gateway;

/// <summary>Turns a leased job into what its device needs to run it, and nothing more.</summary>
public sealed class AssignmentBuilder(RehomeDbContext db, SecretProtector secrets, ReportPace pace)
{
    public async Task<JobAssignment> BuildAsync(Job job, CancellationToken ct) => (await BuildManyAsync([job], ct))[0];

    /// <summary>The assignments of many leased jobs, with one query for their mappings, projects, connections and policies.</summary>
    public async Task<IReadOnlyList<JobAssignment>> BuildManyAsync(IReadOnlyList<Job> jobs, CancellationToken ct)
    {
        var mappingIds = jobs.Select(j => j.MappingId).ToList();
        var contexts = await (
            // The table: a leased job's mapping is a row that shows it (its run item became rows), and the view's join is
            // a probe a mapping for nothing.
            from m in db.StoredMappings.AsNoTracking()
            join p in db.Projects.AsNoTracking() on m.ProjectId equals p.Id
            join s in db.Connections.AsNoTracking() on p.SourceConnectionId equals s.Id
            join d in db.Connections.AsNoTracking() on p.DestinationConnectionId equals d.Id
            join policy in db.Policies.AsNoTracking() on p.PolicyId equals policy.Id
            where mappingIds.Contains(m.Id)
            select new { Mapping = m, Source = s, Destination = d, policy.Settings }).ToDictionaryAsync(c => c.Mapping.Id, ct);
        return [.. jobs.Select(job =>
        {
            var context = contexts[job.MappingId];
            return Build(job, context.Mapping, context.Source, context.Destination, context.Settings);
        })];
    }

    private JobAssignment Build(Job job, Core.Mappings.Mapping mapping, Connection source, Connection destination, PolicySettings settings)
    {
        var rejoin = job.Kind == JobKind.RejoinDomain;
        return new()
        {
            JobId = job.Id,
            RunId = job.RunId,
            LeaseToken = job.LeaseToken!.Value,
            Kind = (AgentJobKind)job.Kind,
            // As long as the lease just made (the pace is read again: it changes every few seconds at most).
            LeaseSeconds = (int)pace.LeaseDuration.TotalSeconds,
            Attempt = job.Attempts,
            Mapping = new MappingTarget(mapping.SourceDevice, mapping.DestinationName, mapping.DestinationOu, mapping.PrimaryUser, mapping.DestinationUser),
            Policy = PolicyFor(settings),
            Join = rejoin ? JoinFor(destination, mapping.DestinationName, mapping.DestinationOu, job) : null,
            // The source asks for a local administrator that keeps the device reachable while it is in no domain.
            BreakGlass = rejoin && source is { BreakGlassAdministratorName: { } name, BreakGlassAdministratorPasswordProtected: { } password }
                ? new BreakGlassAccount(name, secrets.Unprotect(password))
                : null,
            DryRun = job.DryRun,
            RevertOf = job.RevertOf,
        };
    }

    private DestinationJoin JoinFor(Connection destination, string computerName, string? ou, Job job)
    {
        var offline = destination.RejoinMethod == RejoinMethod.Offline;
        // What the server prepared for this job: offline, the djoin blob; online (Active Directory), the computer
        // account's one-time password.
        var prepared = job.DestinationPayloadProtected is { } data ? secrets.Unprotect(data) : null;
        return new()
        {
            Kind = KindOf(destination),
            Offline = offline,
            DomainDnsName = destination.DomainDnsName,
            TenantId = destination.EntraTenantId,
            ComputerName = computerName,
            OrganizationalUnit = ou ?? destination.TargetOu,
            ProvisioningData = offline ? prepared : null,
            OneTimePassword = offline ? null : prepared,
            // Entra ID offline: the connection's provisioning package, downloaded with the lease (the same for every device).
            PackageBytes = destination is { Kind: ConnectionKind.EntraId, RejoinMethod: RejoinMethod.Offline } ? destination.BulkEnrollmentPackageBytes : null,
        };
    }

    internal static JoinKind KindOf(Connection connection) => connection.Kind switch
    {
        ConnectionKind.EntraId => JoinKind.EntraId,
        ConnectionKind.HybridIdentity => JoinKind.HybridIdentity,
        _ => JoinKind.ActiveDirectory,
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
        // Same numbers on both sides; an area to ignore takes its kind out.
        Areas = (DeviceAreas)(int)(settings.Areas.Kinds & ~settings.AreasToIgnore.Kinds),
        HybridRegistrationWaitSeconds = settings.HybridRegistrationWaitSeconds,
    };
}
