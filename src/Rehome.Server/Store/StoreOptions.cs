using System.ComponentModel.DataAnnotations;

namespace Rehome.Server.Store;

/// <summary>Which database holds Rehome's data. Bound from the <c>Rehome:Store</c> configuration section.</summary>
public sealed class StoreOptions
{
    public const string Section = "Rehome:Store";

    /// <summary><c>Sqlite</c> (the embedded default, one server) or <c>PostgreSql</c> (several replicas).</summary>
    public StoreProvider Provider { get; set; } = StoreProvider.Sqlite;

    /// <summary>
    /// The ADO.NET connection string. For SQLite it defaults to <c>rehome.db</c> in <see cref="DataDirectory"/>;
    /// for PostgreSQL it is required.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>Where the SQLite file (and anything else kept on disk) lives; relative paths are from the working directory.</summary>
    [Required]
    public string DataDirectory { get; set; } = "data";

    /// <summary>
    /// Apply the store's migrations at start (the default). Several replicas set it to false and run
    /// <c>rehome-server migrate</c> once before they start; a replica on a database it finds un-migrated then
    /// answers <c>/readyz</c> with 503 naming what is missing.
    /// </summary>
    public bool MigrateOnStart { get; set; } = true;
}

public enum StoreProvider
{
    Sqlite,
    PostgreSql,
}
