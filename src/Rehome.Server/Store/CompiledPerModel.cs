using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Rehome.Server.Store;

/// <summary>
/// An EF compiled query for each model it meets. EF refuses to run a compiled query against another model than the
/// one it was compiled for, and the server has one model per store (SQLite, PostgreSQL): a process holding both (the
/// tests, a migration tool) gets one compiled query per model, compiled on first use.
/// </summary>
public sealed class CompiledPerModel<TQuery>(Func<TQuery> compile)
    where TQuery : class
{
    private readonly ConditionalWeakTable<IModel, TQuery> compiled = [];

    /// <summary>The query compiled for <paramref name="db"/>'s model.</summary>
    public TQuery For(DbContext db) => compiled.TryGetValue(db.Model, out var query) ? query : compiled.GetValue(db.Model, _ => compile());
}
