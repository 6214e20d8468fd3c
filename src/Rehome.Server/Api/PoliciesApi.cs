using Microsoft.EntityFrameworkCore;
using Rehome.Core.Policies;
using Rehome.Server.Audit;
using Rehome.Server.Store;

namespace Rehome.Server.Api;

/// <summary>What an administrator sends to create or update a policy; settings left out take their defaults.</summary>
public sealed record PolicyInput(string? Name, PolicySettings? Settings);

/// <summary>/api/v1/policies: migration policies.</summary>
public static class PoliciesApi
{
    public static RouteGroupBuilder MapPoliciesApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/policies").WithTags("Policies");
        group.MapGet("/", async (RehomeDbContext db, CancellationToken ct) =>
            Results.Ok(await db.Policies.AsNoTracking().OrderBy(p => p.Name).ToListAsync(ct))).WithName("ListPolicies");
        group.MapGet("/{id:guid}", async (Guid id, RehomeDbContext db, CancellationToken ct) =>
            await db.Policies.AsNoTracking().FirstOrDefaultAsync(p => p.Id == id, ct) is { } policy
                ? Results.Ok(policy)
                : Problems.NotFound($"Policy {id}")).WithName("GetPolicy");
        group.MapPost("/", CreateAsync).WithName("CreatePolicy");
        group.MapPut("/{id:guid}", UpdateAsync).WithName("UpdatePolicy");
        group.MapDelete("/{id:guid}", DeleteAsync).WithName("DeletePolicy");
        return api;
    }

    private static async Task<IResult> CreateAsync(PolicyInput input, RehomeDbContext db, AuditTrail audit, TimeProvider time, CancellationToken ct)
    {
        var settings = input.Settings ?? new PolicySettings();
        var violations = PolicyRules.Validate(input.Name, settings);
        if (violations.Count > 0)
        {
            return Problems.Validation(violations);
        }
        var name = input.Name!.Trim();
        if (await db.Policies.AnyAsync(p => p.Name == name, ct))
        {
            return Problems.Conflict("NameTaken", $"A policy named '{name}' already exists.");
        }
        var now = time.GetUtcNow();
        var policy = new MigrationPolicy { Id = Guid.CreateVersion7(now), Name = name, Settings = settings, CreatedAt = now, UpdatedAt = now };
        db.Policies.Add(policy);
        audit.Record("policy.create", $"policy:{policy.Id}", $"'{name}'");
        await db.SaveChangesAsync(ct);
        return Results.Created($"/api/v1/policies/{policy.Id}", policy);
    }

    private static async Task<IResult> UpdateAsync(Guid id, PolicyInput input, RehomeDbContext db, AuditTrail audit, TimeProvider time, CancellationToken ct)
    {
        var policy = await db.Policies.FirstOrDefaultAsync(p => p.Id == id, ct);
        if (policy is null)
        {
            return Problems.NotFound($"Policy {id}");
        }
        var settings = input.Settings ?? policy.Settings;
        var violations = PolicyRules.Validate(input.Name, settings);
        if (violations.Count > 0)
        {
            return Problems.Validation(violations);
        }
        var name = input.Name!.Trim();
        if (await db.Policies.AnyAsync(p => p.Name == name && p.Id != id, ct))
        {
            return Problems.Conflict("NameTaken", $"A policy named '{name}' already exists.");
        }
        policy.Name = name;
        policy.Settings = settings;
        policy.UpdatedAt = time.GetUtcNow();
        audit.Record("policy.update", $"policy:{id}", $"'{name}'");
        await db.SaveChangesAsync(ct);
        return Results.Ok(policy);
    }

    private static async Task<IResult> DeleteAsync(Guid id, RehomeDbContext db, AuditTrail audit, CancellationToken ct)
    {
        var policy = await db.Policies.FirstOrDefaultAsync(p => p.Id == id, ct);
        if (policy is null)
        {
            return Problems.NotFound($"Policy {id}");
        }
        var usedBy = await db.Projects.Where(p => p.PolicyId == id).Select(p => p.Name).ToListAsync(ct);
        if (usedBy.Count > 0)
        {
            return Problems.Conflict("PolicyInUse",
                $"The policy '{policy.Name}' is used by the project(s) {string.Join(", ", usedBy.Select(n => $"'{n}'"))}; change or delete them first.");
        }
        db.Policies.Remove(policy);
        audit.Record("policy.delete", $"policy:{id}", $"'{policy.Name}'");
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }
}
