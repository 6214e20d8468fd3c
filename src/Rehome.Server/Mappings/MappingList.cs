using Microsoft.EntityFrameworkCore;
using Rehome.Core.Mappings;
using Rehome.Server.Administration;
using Rehome.Server.Store;

namespace Rehome.Server.Mappings;

/// <summary>What a page of the list asks: a filter, a sort, and where to start (an offset, or the cursor of the page before).</summary>
public sealed record MappingListRequest(MappingFilter Filter, string? Sort, int Offset, int Size, string? After = null);

/// <summary>
/// A page of the list: its rows, the total matching (<see cref="MappingTotal.IsEstimate"/> when reused, see
/// <see cref="MappingCounts"/>) and <paramref name="Next"/>, the cursor of the page after (null on the last page).
/// </summary>
public sealed record MappingListPage(IReadOnlyList<Mapping> Rows, MappingTotal Total, string? Next);

/// <summary>The mapping list of a project, as the API pages it: filter, sort, offset or cursor, and the total.</summary>
public sealed class MappingList(RehomeDbContext db, MappingCounts counts)
{
    /// <summary>The page; a failure names the field that is wrong (a filter word, the sort, or <c>after</c>).</summary>
    public async Task<Outcome<MappingListPage>> PageAsync(Guid projectId, MappingListRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct))
        {
            return Failure.NotFound($"Project {projectId}");
        }
        if (MappingQuery.Check(request.Filter, request.Sort) is { } problem)
        {
            return Failure.Validation([problem]);
        }
        var order = MappingOrder.Of(request.Sort);
        var matching = MappingQuery.Apply(db, (await db.MappingsOfAsync(projectId, ct)).AsNoTracking(), request.Filter);
        var rows = matching;
        if (request.After is { } after)
        {
            if (request.Offset > 0)
            {
                return Failure.Validation("after", "Cursor", "Give a page number or a cursor (after), not both.");
            }
            if (order.Read(after) is not { } position)
            {
                return Failure.Validation([order.NotACursor]);
            }
            rows = order.After(rows, position, nullsFirst: db.Provider == StoreProvider.Sqlite);
        }
        var page = await order.Sort(rows).Skip(request.Offset).Take(request.Size).ToListAsync(ct);
        var total = await counts.CountAsync(projectId, request.Filter, matching, ct);
        return new MappingListPage(page, total, page.Count == request.Size ? order.CursorAfter(page[^1]) : null);
    }
}
