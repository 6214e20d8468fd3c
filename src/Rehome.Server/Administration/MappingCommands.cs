using Microsoft.EntityFrameworkCore;
using Rehome.Core.Cleanup;
using Rehome.Core.Mappings;
using Rehome.Core.Runs;
using Rehome.Server.Api;
using Rehome.Server.Audit;
using Rehome.Server.Gateway;
using Rehome.Server.Store;

namespace Rehome.Server.Administration;

/// <summary>
/// Creates, changes, deletes and moves single mappings: for the API and the console. The store's project limits
/// apply (a limited account neither sees nor reaches another project's mappings, nor moves one into it).
/// </summary>
public sealed class MappingCommands(RehomeDbContext db, StoreCommands store, AuditTrail audit, TimeProvider time, AgentRegistry registry)
{
    public async Task<MappingView?> GetAsync(Guid id, CancellationToken ct) =>
        await db.Mappings.AsNoTracking().FirstOrDefaultAsync(m => m.Id == id, ct) is { } m ? MappingView.From(m) : null;

    public async Task<Outcome<MappingView>> CreateAsync(Guid projectId, MappingInput input, CancellationToken ct)
    {
        (input, var invalid) = Checked(input);
        if (invalid is not null)
        {
            return invalid;
        }
        // The archived check under the project's lock: an archive made meanwhile wins.
        await using var transaction = await ProjectLock.TakeAsync(db, store, projectId, ct);
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct))
        {
            return Failure.NotFound($"Project {projectId}");
        }
        if (await ArchivedProjects.RefuseAsync(db, projectId, ArchivedAction.EditMapping, ct) is { } archived)
        {
            return archived;
        }
        var key = Mapping.KeyOf(input.SourceDevice!);
        if (await DeviceConflictAsync(key, null, ct) is { } conflict)
        {
            return conflict;
        }
        var mapping = Mapping.Create(projectId, input, time.GetUtcNow());
        db.Mappings.Add(mapping);
        audit.Record("mapping.create", $"mapping:{mapping.Id}", mapping.SourceDevice);
        await db.SaveChangesAsync(ct);
        await transaction.CommitRegardlessAsync();
        return MappingView.From(mapping);
    }

    /// <summary>Changes what a mapping says; its device name only while none of its jobs waits or runs.</summary>
    public async Task<Outcome<MappingView>> UpdateAsync(Guid id, MappingInput input, CancellationToken ct)
    {
        var mapping = await db.Mappings.FirstOrDefaultAsync(m => m.Id == id, ct);
        if (mapping is null)
        {
            return Failure.NotFound($"Mapping {id}");
        }
        if (await ArchivedProjects.RefuseAsync(db, mapping.ProjectId, ArchivedAction.EditMapping, ct) is { } archived)
        {
            return archived;
        }
        (input, var invalid) = Checked(input);
        if (invalid is not null)
        {
            return invalid;
        }
        var key = Mapping.KeyOf(input.SourceDevice!);
        if (key != mapping.SourceDeviceKey)
        {
            if (await HasActiveJobsAsync(id, ct))
            {
                return Failure.Conflict("MappingHasActiveJobs", $"{mapping.SourceDevice} has jobs waiting or in progress; its device name cannot change now.");
            }
            if (await DeviceConflictAsync(key, id, ct) is { } conflict)
            {
                return conflict;
            }
            // Another device: what the old one did says nothing about it.
            mapping.RejoinedAt = null;
        }
        mapping.SourceDevice = input.SourceDevice!;
        mapping.SourceDeviceKey = key;
        mapping.DestinationName = input.DestinationName!;
        mapping.DestinationOu = input.DestinationOu;
        mapping.PrimaryUser = input.PrimaryUser;
        mapping.DestinationUser = input.DestinationUser;
        mapping.UpdatedAt = time.GetUtcNow();
        audit.Record("mapping.update", $"mapping:{id}", mapping.SourceDevice);
        await db.SaveChangesAsync(ct);
        return MappingView.From(mapping);
    }

    /// <summary>Deletes a mapping with its jobs' history; refused while one of its jobs waits or runs.</summary>
    public async Task<Outcome<bool>> DeleteAsync(Guid id, CancellationToken ct)
    {
        var mapping = await db.Mappings.FirstOrDefaultAsync(m => m.Id == id, ct);
        if (mapping is null)
        {
            return Failure.NotFound($"Mapping {id}");
        }
        if (await ArchivedProjects.RefuseAsync(db, mapping.ProjectId, ArchivedAction.EditMapping, ct) is { } archived)
        {
            return archived;
        }
        if (await HasActiveJobsAsync(id, ct))
        {
            return Failure.Conflict("MappingHasActiveJobs", $"{mapping.SourceDevice} has jobs waiting or in progress; stop them before deleting the mapping.");
        }
        // Jobs carry no foreign key (see the store): the mapping's history goes with it, in one transaction.
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await JobRecords.DeleteAsync(db, db.StoredJobs.Where(j => j.MappingId == id), db.RunItems.Where(i => i.MappingId == id), ct);
        db.Mappings.Remove(mapping);
        audit.Record("mapping.delete", $"mapping:{id}", mapping.SourceDevice);
        await db.SaveChangesAsync(ct);
        await transaction.CommitRegardlessAsync();
        registry.MappingsRemoved(mapping.AgentId is { } agent ? [agent] : []);
        return true;
    }

    /// <summary>Moves a mapping, with its jobs, to another project: the one way a device changes project.</summary>
    public async Task<Outcome<MappingView>> MoveAsync(Guid id, Guid projectId, CancellationToken ct)
    {
        var mapping = await db.Mappings.FirstOrDefaultAsync(m => m.Id == id, ct);
        if (mapping is null)
        {
            return Failure.NotFound($"Mapping {id}");
        }
        var target = await db.Projects.AsNoTracking().FirstOrDefaultAsync(p => p.Id == projectId, ct);
        if (target is null)
        {
            return Failure.Validation("projectId", "NotFound", $"The project {projectId} does not exist.");
        }
        // Both projects' locks, in one order (no two moves wait for each other), then the checks under them: out of an
        // archived project or into one both change an archived project's mappings, and an archive made meanwhile wins.
        var from = mapping.ProjectId;
        await using var transaction = await ProjectLock.TakeAsync(db, store, [from, target.Id], ct);
        if ((await ArchivedProjects.RefuseAsync(db, from, ArchivedAction.EditMapping, ct)
            ?? await ArchivedProjects.RefuseAsync(db, target.Id, ArchivedAction.EditMapping, ct)) is { } archived)
        {
            return archived;
        }
        if (await HasActiveJobsAsync(id, ct))
        {
            return Failure.Conflict("MappingHasActiveJobs", $"{mapping.SourceDevice} has jobs waiting or in progress; it can move when they are over.");
        }
        mapping.ProjectId = target.Id;
        mapping.UpdatedAt = time.GetUtcNow();
        // The new project may have another destination: the device has not rejoined it.
        mapping.RejoinedAt = null;
        // The jobs move with the mapping so its report stays whole.
        await db.Jobs.Where(j => j.MappingId == id).ExecuteUpdateAsync(s => s.SetProperty(j => j.ProjectId, target.Id), ct);
        await db.RunItems.Where(i => i.MappingId == id).ExecuteUpdateAsync(s => s.SetProperty(i => i.ProjectId, target.Id), ct);
        audit.Record("mapping.move", $"mapping:{id}", $"{mapping.SourceDevice}: project {from} → '{target.Name}'");
        await db.SaveChangesAsync(ct);
        await transaction.CommitRegardlessAsync();
        return MappingView.From(mapping);
    }

    /// <summary>The input with its defaults applied, and why it breaks the mapping rules if it does.</summary>
    private static (MappingInput Input, Failure? Invalid) Checked(MappingInput input)
    {
        var normalised = MappingRules.Normalise(input);
        var violations = MappingRules.Validate(normalised);
        return (normalised, violations.Count > 0 ? Failure.Validation(violations) : null);
    }

    private Task<bool> HasActiveJobsAsync(Guid mappingId, CancellationToken ct) =>
        db.Jobs.AnyAsync(j => j.MappingId == mappingId && JobStatuses.Active.Contains(j.Status), ct);

    private async Task<Failure?> DeviceConflictAsync(string key, Guid? except, CancellationToken ct)
    {
        var other = await db.StoredMappings.AsNoTracking()
            .Where(m => m.SourceDeviceKey == key && m.Id != except)
            .Join(db.Projects, m => m.ProjectId, p => p.Id, (m, p) => new { m.SourceDevice, Project = p.Name })
            .FirstOrDefaultAsync(ct);
        return other is null
            ? null
            : Failure.Conflict("DeviceInAnotherMapping",
                $"The device '{other.SourceDevice}' already has a mapping in the project '{other.Project}'; a device can be in one project only (move it explicitly).");
    }
}
