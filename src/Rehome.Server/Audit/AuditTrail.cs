using System.Security.Claims;
using Rehome.Server.Store;

namespace Rehome.Server.Audit;

/// <summary>Adds audit entries to the current unit of work, so an entry is saved exactly when its change is.</summary>
public sealed class AuditTrail(RehomeDbContext db, IHttpContextAccessor http, TimeProvider time)
{
    /// <summary>The signed-in administrator, or <c>system</c> for work the server does by itself.</summary>
    public string Actor => http.HttpContext?.User.FindFirstValue(ClaimTypes.Name) ?? "system";

    public void Record(string action, string target, string? details = null) =>
        db.AuditLog.Add(new AuditEntry { At = time.GetUtcNow(), Actor = Actor, Action = action, Target = target, Details = details });
}
