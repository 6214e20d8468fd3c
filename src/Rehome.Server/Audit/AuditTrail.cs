using System.Security.Claims;
using Rehome.Server.Hosting;
using Rehome.Server.Store;

namespace Rehome.Server.Audit;

/// <summary>Adds audit entries to the current unit of work, so an entry is saved exactly when its change is.</summary>
public sealed class AuditTrail(RehomeDbContext db, CurrentRequest request, TimeProvider time)
{
    private string? actor;

    /// <summary>The signed-in administrator, or <c>system</c> for work the server does by itself.</summary>
    public string Actor => actor ?? request.Http?.User.FindFirstValue(ClaimTypes.Name) ?? "system";

    /// <summary>
    /// Names the administrator for this scope: the console's interactive pages work outside any HTTP request
    /// (over their circuit), so they say who acts.
    /// </summary>
    public void ActAs(string? administrator) => actor = administrator;

    public void Record(string action, string target, string? details = null) =>
        db.AuditLog.Add(new AuditEntry { At = time.GetUtcNow(), Actor = Actor, Action = action, Target = target, Details = details });
}
