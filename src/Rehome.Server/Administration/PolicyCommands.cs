using Microsoft.EntityFrameworkCore;
using Rehome.Core.Policies;
using Rehome.Server.Api;
using Rehome.Server.Audit;
using Rehome.Server.Store;

namespace Rehome.Server.Administration;

/// <summary>Creates, changes and deletes migration policies: for the API and the console.</summary>
public sealed class PolicyCommands(RehomeDbContext db, AuditTrail audit, TimeProvider time)
{
    public async Task<IReadOnlyList<MigrationPolicy>> ListAsync(CancellationToken ct) =>
        await db.Policies.AsNoTracking().OrderBy(p => p.Name).ToListAsync(ct);

    public Task<MigrationPolicy?> GetAsync(Guid id, CancellationToken ct) => db.Policies.AsNoTracking().FirstOrDefaultAsync(p => p.Id == id, ct);

    public async Task<Outcome<MigrationPolicy>> CreateAsync(PolicyInput input, CancellationToken ct)
    {
        var settings = input.Settings ?? new PolicySettings();
        var violations = PolicyRules.Validate(input.Name, settings);
        if (violations.Count > 0)
        {
            return Failure.Validation(violations);
        }
        var name = input.Name!.Trim();
        if (await db.Policies.AnyAsync(p => p.Name == name, ct))
        {
            return NameTaken(name);
        }
        var now = time.GetUtcNow();
        var policy = new MigrationPolicy { Id = Guid.CreateVersion7(now), Name = name, Settings = settings, CreatedAt = now, UpdatedAt = now };
        db.Policies.Add(policy);
        audit.Record("policy.create", $"policy:{policy.Id}", $"'{name}'");
        await db.SaveChangesAsync(ct);
        return policy;
    }

    public async Task<Outcome<MigrationPolicy>> UpdateAsync(Guid id, PolicyInput input, CancellationToken ct)
    {
        var policy = await db.Policies.FirstOrDefaultAsync(p => p.Id == id, ct);
        if (policy is null)
        {
            return Failure.NotFound($"Policy {id}");
        }
        var settings = input.Settings ?? policy.Settings;
        var violations = PolicyRules.Validate(input.Name, settings);
        if (violations.Count > 0)
        {
            return Failure.Validation(violations);
        }
        var name = input.Name!.Trim();
        if (await db.Policies.AnyAsync(p => p.Name == name && p.Id != id, ct))
        {
            return NameTaken(name);
        }
        policy.Name = name;
        policy.Settings = settings;
        policy.UpdatedAt = time.GetUtcNow();
        audit.Record("policy.update", $"policy:{id}", $"'{name}'");
        await db.SaveChangesAsync(ct);
        return policy;
    }

    public async Task<Outcome<bool>> DeleteAsync(Guid id, CancellationToken ct)
    {
        var policy = await db.Policies.FirstOrDefaultAsync(p => p.Id == id, ct);
        if (policy is null)
        {
            return Failure.NotFound($"Policy {id}");
        }
        var usedBy = await db.Projects.Where(p => p.PolicyId == id).Select(p => p.Name).ToListAsync(ct);
        if (usedBy.Count > 0)
        {
            return Failure.Conflict("PolicyInUse",
                $"The policy '{policy.Name}' is used by the project(s) {string.Join(", ", usedBy.Select(n => $"'{n}'"))}; change or delete them first.");
        }
        db.Policies.Remove(policy);
        audit.Record("policy.delete", $"policy:{id}", $"'{policy.Name}'");
        await db.SaveChangesAsync(ct);
        return true;
    }

    private static Failure NameTaken(string name) => Failure.Conflict("NameTaken", $"A policy named '{name}' already exists.");
}
