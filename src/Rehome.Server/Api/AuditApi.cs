using Microsoft.EntityFrameworkCore;
using Rehome.Server.Audit;
using Rehome.Server.Auth;
using Rehome.Server.Store;

namespace Rehome.Server.Api;

/// <summary>/api/v1/audit: who did what, when; newest first.</summary>
public static class AuditApi
{
    public static RouteGroupBuilder MapAuditApi(this RouteGroupBuilder api)
    {
        api.MapGet("/audit", async (string? actor, string? action, int? page, int? pageSize, RehomeDbContext db, CancellationToken ct) =>
        {
            var (number, size) = Paging.Clamp(page, pageSize);
            var query = AuditQuery.Apply(db.AuditLog.AsNoTracking(), actor, action);
            var total = await query.CountAsync(ct);
            var items = await query.Skip((number - 1) * size).Take(size).ToListAsync(ct);
            return Results.Ok(new Page<AuditEntry>(items, total, number, size));
        }).WithTags("Audit").WithName("ListAudit").RequireRole(Role.Auditor);
        return api;
    }
}
