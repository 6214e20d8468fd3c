using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Rehome.Core.Agents;
using Rehome.Core.Connections;
using Rehome.Core.Mappings;
using Rehome.Core.Policies;
using Rehome.Core.Projects;
using Rehome.Core.Runs;
using Rehome.Server.AgentUpdates;
using Rehome.Server.Audit;
using Rehome.Server.Auth;
using Rehome.Server.Notifications;

namespace Rehome.Server.Store;

/// <summary>
/// Rehome's store. Tables and columns are snake_case on every provider so that the few hand-written SQL
/// statements (bulk writes, leases) read the same on SQLite and PostgreSQL. Each provider has its own
/// subclass, only so that each keeps its own migrations.
/// </summary>
public abstract class RehomeDbContext(DbContextOptions options) : DbContext(options), IDataProtectionKeyContext
{
    internal static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    public DbSet<Connection> Connections => Set<Connection>();

    public DbSet<ConnectionPackage> ConnectionPackages => Set<ConnectionPackage>();

    public DbSet<MigrationPolicy> Policies => Set<MigrationPolicy>();

    public DbSet<Project> Projects => Set<Project>();

    public DbSet<ProjectArchive> ProjectArchives => Set<ProjectArchive>();

    /// <summary>
    /// Every mapping as the list shows it: the <c>mappings</c> table, with the summary of a newest run that is still
    /// run items derived from them (the <c>mapping_states</c> view, <see cref="CompactJobsSchema"/>).
    /// </summary>
    public DbSet<Mapping> Mappings => Set<Mapping>();

    /// <summary>The mappings table alone: every row's summary is its own when no run item waits to be shown over it.</summary>
    public IQueryable<Mapping> StoredMappings => Mappings.FromSqlRaw("SELECT * FROM mappings");

    /// <summary>
    /// The project's mappings, read from the table unless a run of the project has run items whose mappings' rows do
    /// not show it yet (<see cref="Run.MappingsShownAt"/>: for a second or two after a large run is accepted, until the
    /// run engine has written them), else through the view: the same rows either way, and the table's indexes serve the
    /// list's filters and sorts. Asked through the project's runs (a few, by index) and the items' run index.
    /// </summary>
    public async Task<IQueryable<Mapping>> MappingsOfAsync(Guid projectId, CancellationToken ct) =>
        (await ItemsShownAsync(projectId, ct) ? Mappings : StoredMappings).Where(m => m.ProjectId == projectId);

    /// <summary>As <see cref="MappingsOfAsync"/> for every project: the table unless some run's run items are not shown by its mappings' rows yet.</summary>
    public async Task<IQueryable<Mapping>> AllMappingsAsync(CancellationToken ct) =>
        await ItemsShownAsync(null, ct) ? Mappings : StoredMappings;

    /// <summary>Whether a run of the project (of any, when null) has run items its mappings' rows do not show yet.</summary>
    private Task<bool> ItemsShownAsync(Guid? projectId, CancellationToken ct) =>
        Runs.AnyAsync(r => (projectId == null || r.ProjectId == projectId) && r.MappingsShownAt == null && RunItems.Any(i => i.RunId == r.Id), ct);

    public DbSet<Run> Runs => Set<Run>();

    /// <summary>Every job: the <c>jobs</c> table and the jobs derived from run items (the <c>all_jobs</c> view, <see cref="CompactJobsSchema"/>).</summary>
    public DbSet<Job> Jobs => Set<Job>();

    /// <summary>
    /// Only the jobs that are rows, for the few hot reads whose jobs are rows by then: a job that was leased, ran, or
    /// waits for its destination has been written as a row (run items never hold those), and reading the table spares
    /// deriving every run item's jobs to find one by id or by a status they never have.
    /// </summary>
    public IQueryable<Job> StoredJobs => Jobs.FromSqlRaw("SELECT * FROM jobs");

    /// <summary>Mappings of a run whose jobs are not rows yet (<see cref="RunItem"/>).</summary>
    public DbSet<RunItem> RunItems => Set<RunItem>();

    public DbSet<JobLogLine> JobLogLines => Set<JobLogLine>();

    public DbSet<JobItem> JobItems => Set<JobItem>();

    public DbSet<DeviceAgent> Agents => Set<DeviceAgent>();

    public DbSet<AgentPackage> AgentPackages => Set<AgentPackage>();

    public DbSet<AgentPackageContent> AgentPackageContents => Set<AgentPackageContent>();

    public DbSet<AgentPackageTarget> AgentPackageTargets => Set<AgentPackageTarget>();

    public DbSet<Account> Accounts => Set<Account>();

    public DbSet<AccountProject> AccountProjects => Set<AccountProject>();

    public DbSet<ApiToken> ApiTokens => Set<ApiToken>();

    public DbSet<ConsoleSignIn> ConsoleSignIns => Set<ConsoleSignIn>();

    public DbSet<AuditEntry> AuditLog => Set<AuditEntry>();

    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    public DbSet<NotificationSubscription> NotificationSubscriptions => Set<NotificationSubscription>();

    public DbSet<NotificationEvent> NotificationEvents => Set<NotificationEvent>();

    public DbSet<NotificationDelivery> NotificationDeliveries => Set<NotificationDelivery>();

    public DbSet<NotificationDeliveryEvent> NotificationDeliveryEvents => Set<NotificationDeliveryEvent>();

    public DbSet<NotificationAttempt> NotificationAttempts => Set<NotificationAttempt>();

    public DbSet<NotificationMark> NotificationMarks => Set<NotificationMark>();

    /// <summary>Which SQL dialect the hand-written statements use.</summary>
    public abstract StoreProvider Provider { get; }

    /// <summary>
    /// The projects this unit of work may see, when it acts for an account limited to some projects
    /// (<see cref="AccountProject"/>); null sees every project (the engine, the gateway, unlimited accounts).
    /// Set once per request or console action by <see cref="ProjectLimits"/>. Projects, their mappings, runs
    /// and jobs, and the agents of those mappings are filtered by it in every query, so a project outside the
    /// limits is absent from lists and answers 404 like one that does not exist.
    /// </summary>
    public Guid[]? VisibleProjects { get; private set; }

    /// <summary>
    /// This context with no project limit, as a pooled context starts each scope: limits belong to the unit of work
    /// that set them, never to the next one the pool hands the context to.
    /// </summary>
    internal RehomeDbContext WithoutLimits()
    {
        VisibleProjects = null;
        return this;
    }

    /// <summary>Limits this unit of work to <paramref name="projects"/> (see <see cref="VisibleProjects"/>); only ever narrows.</summary>
    public void LimitToProjects(IEnumerable<Guid> projects) =>
        VisibleProjects = VisibleProjects is null ? [.. projects] : [.. VisibleProjects.Intersect(projects)];

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Connection>(e =>
        {
            e.ToTable("connections");
            e.HasIndex(c => c.Name).IsUnique();
            e.Property(c => c.Name).HasMaxLength(ConnectionRules.NameMaxLength);
            e.Ignore(c => c.NeedsDestinationPreparation);
        });
        modelBuilder.Entity<ConnectionPackage>(e =>
        {
            e.ToTable("connection_packages");
            e.HasKey(p => p.ConnectionId);
            e.HasOne<Connection>().WithOne().HasForeignKey<ConnectionPackage>(p => p.ConnectionId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<MigrationPolicy>(e =>
        {
            e.ToTable("policies");
            e.HasIndex(p => p.Name).IsUnique();
            e.Property(p => p.Settings).HasConversion(JsonConverter<PolicySettings>(), JsonComparer<PolicySettings>());
        });
        modelBuilder.Entity<Project>(e =>
        {
            e.ToTable("projects");
            e.HasIndex(p => p.Name).IsUnique();
            e.Property(p => p.Tags).HasConversion(JsonConverter<List<string>>(), JsonComparer<List<string>>());
            e.HasOne<Connection>().WithMany().HasForeignKey(p => p.SourceConnectionId).OnDelete(DeleteBehavior.Restrict);
            e.HasOne<Connection>().WithMany().HasForeignKey(p => p.DestinationConnectionId).OnDelete(DeleteBehavior.Restrict);
            e.HasOne<MigrationPolicy>().WithMany().HasForeignKey(p => p.PolicyId).OnDelete(DeleteBehavior.Restrict);
            e.HasQueryFilter(p => VisibleProjects == null || VisibleProjects.Contains(p.Id));
        });
        modelBuilder.Entity<ProjectArchive>(e =>
        {
            e.ToTable("project_archives");
            e.HasKey(a => a.ProjectId);
            e.HasOne<Project>().WithOne().HasForeignKey<ProjectArchive>(a => a.ProjectId).OnDelete(DeleteBehavior.Cascade);
            e.HasQueryFilter(a => VisibleProjects == null || VisibleProjects.Contains(a.ProjectId));
        });
        modelBuilder.Entity<Mapping>(e =>
        {
            // Written to the table; read through the view that shows the summaries of runs still held as run items.
            e.ToTable("mappings");
            e.ToView("mapping_states");
            // A device is in one project at most: the key is unique across all of them.
            e.HasIndex(m => m.SourceDeviceKey).IsUnique();
            e.HasIndex(m => new { m.ProjectId, m.SourceDeviceKey });
            // The grid's filters and sorts within a project, each ending on the device key as MappingQuery's orders
            // do: a page, deep or not, is a range of one index (read backwards for a descending sort).
            e.HasIndex(m => new { m.ProjectId, m.Status, m.SourceDeviceKey });
            e.HasIndex(m => new { m.ProjectId, m.Stage, m.SourceDeviceKey });
            e.HasIndex(m => new { m.ProjectId, m.DestinationName, m.SourceDeviceKey });
            e.HasIndex(m => new { m.ProjectId, m.Readiness });
            // No index on last_run_id: a run's mappings are found through its jobs' (run, mapping) index, and each index
            // here is paid for every mapping whose run item becomes rows (MappingSummaries.MakeLatestAsync).
            e.HasOne<Project>().WithMany().HasForeignKey(m => m.ProjectId).OnDelete(DeleteBehavior.Cascade);
            e.HasQueryFilter(m => VisibleProjects == null || VisibleProjects.Contains(m.ProjectId));
        });
        modelBuilder.Entity<Run>(e =>
        {
            e.ToTable("runs");
            e.HasIndex(r => new { r.ProjectId, r.CreatedAt });
            e.HasIndex(r => r.ReleasedAt);
            // The run engine looks every second for runs whose mappings' rows do not show them yet.
            e.HasIndex(r => r.MappingsShownAt);
            e.HasOne<Project>().WithMany().HasForeignKey(r => r.ProjectId).OnDelete(DeleteBehavior.Cascade);
            e.HasQueryFilter(r => VisibleProjects == null || VisibleProjects.Contains(r.ProjectId));
        });
        modelBuilder.Entity<Job>(e =>
        {
            // Written to the table; read through the view that adds the jobs of run items (CompactJobsSchema).
            e.ToTable("jobs");
            e.ToView("all_jobs");
            // Few indexes on purpose: a run writes 250,000 rows at once and every index is paid per row.
            // (run, mapping) serves the jobs of a run, a mapping's jobs in its last run, and a rejoin's dependents.
            e.HasIndex(j => new { j.RunId, j.MappingId });
            // (mapping, status) serves an agent's next job, the active-job rule and a mapping's report.
            e.HasIndex(j => new { j.MappingId, j.Status });
            // Only running jobs have a lease to expire: a partial index costs nothing when a run is written.
            e.HasIndex(j => j.LeaseExpiresAt).HasFilter($"status = {(int)JobStatus.InProgress}").HasDatabaseName("ix_jobs_running_lease_expires_at");
            // Counters start at zero in the database, so a run's bulk insert binds ten columns instead of sixteen.
            e.Property(j => j.Attempts).HasDefaultValue(0).HasSentinel(-1);
            e.Property(j => j.ItemsDone).HasDefaultValue(0).HasSentinel(-1);
            e.Property(j => j.ItemsTotal).HasDefaultValue(0).HasSentinel(-1);
            e.Property(j => j.ItemsChanged).HasDefaultValue(0).HasSentinel(-1);
            e.Property(j => j.ItemsFailed).HasDefaultValue(0).HasSentinel(-1);
            e.Property(j => j.StopRequested).HasDefaultValue(false);
            e.Property(j => j.DryRun).HasDefaultValue(false);
            // The agent's per-area counts: at most AreaCount.MaxAreas small records, read and written whole.
            e.Property(j => j.Areas).HasConversion(JsonConverter<List<JobAreaCount>?>(), JsonComparer<List<JobAreaCount>?>());
            // No foreign keys: PostgreSQL checks each with a trigger per row, a second per job on a 250,000-job
            // run. Jobs are written only by the run engine, in the transaction that writes their run, and are
            // deleted with their mapping or project by the API (MappingsApi, ProjectsApi).
            e.HasQueryFilter(j => VisibleProjects == null || VisibleProjects.Contains(j.ProjectId));
        });
        modelBuilder.Entity<RunItem>(e =>
        {
            e.ToTable("run_items");
            // The mapping's items are turned into jobs before any write to its jobs, and its derived jobs are read by
            // mapping (its report, the active-job rule, the agent's next job); a run's by run, and a mapping's summary by
            // both (SQLite picks the run's index for "run and mapping" unless it has both). No foreign keys, as jobs.
            e.HasIndex(i => i.MappingId);
            e.HasIndex(i => new { i.RunId, i.MappingId });
            e.HasQueryFilter(i => VisibleProjects == null || VisibleProjects.Contains(i.ProjectId));
        });
        modelBuilder.Entity<JobLogLine>(e =>
        {
            e.ToTable("job_log_lines");
            // A chunk the agent sends twice (its answer was lost) must not be stored twice.
            e.HasIndex(l => new { l.JobId, l.Sequence, l.LineNumber }).IsUnique();
        });
        modelBuilder.Entity<JobItem>(e =>
        {
            e.ToTable("job_items");
            e.HasIndex(i => i.JobId);
        });
        modelBuilder.Entity<DeviceAgent>(e =>
        {
            e.ToTable("agents");
            e.HasIndex(a => a.DeviceKey);
            e.HasIndex(a => a.LastSeenAt);
            // An agent belongs to the project of its mapping; one linked to no mapping is in no project.
            e.HasQueryFilter(a => VisibleProjects == null || Mappings.Any(m => m.AgentId == a.Id));
        });
        modelBuilder.Entity<Account>(e =>
        {
            e.ToTable("accounts");
            e.HasIndex(a => a.UserName).IsUnique();
            e.Property(a => a.UserName).HasMaxLength(100);
            e.Property(a => a.Role).HasConversion<string>().HasMaxLength(20);
            e.Property(a => a.SecurityStamp).HasMaxLength(64);
            e.HasIndex(a => new { a.ExternalIssuer, a.ExternalSubject }).IsUnique();
        });
        modelBuilder.Entity<AccountProject>(e =>
        {
            e.ToTable("account_projects");
            e.HasKey(p => new { p.AccountId, p.ProjectId });
            e.HasOne<Account>().WithMany().HasForeignKey(p => p.AccountId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<Project>().WithMany().HasForeignKey(p => p.ProjectId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<ApiToken>(e =>
        {
            e.ToTable("api_tokens");
            e.HasIndex(t => t.TokenHash).IsUnique();
            e.Property(t => t.Scope).HasConversion<string>().HasMaxLength(20);
            e.HasOne<Account>().WithMany().HasForeignKey(t => t.AccountId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<ConsoleSignIn>(e =>
        {
            e.ToTable("console_sessions");
            // An account's open sessions are ended at once on a password change, a reset or a disable.
            e.HasIndex(s => s.AccountId);
            e.HasOne<Account>().WithMany().HasForeignKey(s => s.AccountId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<AuditEntry>(e =>
        {
            e.ToTable("audit_log");
            e.HasIndex(a => a.At);
        });
        modelBuilder.Entity<DataProtectionKey>().ToTable("data_protection_keys");
        ConfigureNotifications(modelBuilder);
        ConfigureAgentPackages(modelBuilder);

        ApplySnakeCaseNames(modelBuilder);
    }

    private static void ConfigureAgentPackages(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<AgentPackage>(e =>
        {
            e.ToTable("agent_packages");
            e.HasIndex(p => p.Version).IsUnique();
            e.Property(p => p.Version).HasMaxLength(Protocol.AgentVersions.MaxLength);
            // One current package at most: two administrators marking at once cannot both succeed.
            e.HasIndex(p => p.IsCurrent).IsUnique().HasFilter("is_current = true").HasDatabaseName("ix_agent_packages_current");
        });
        modelBuilder.Entity<AgentPackageContent>(e =>
        {
            e.ToTable("agent_package_contents");
            e.HasKey(c => c.PackageId);
            e.HasOne<AgentPackage>().WithOne().HasForeignKey<AgentPackageContent>(c => c.PackageId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<AgentPackageTarget>(e =>
        {
            e.ToTable("agent_package_targets");
            e.HasKey(t => t.ConnectionId);
            e.HasIndex(t => t.PackageId);
            e.HasOne<Connection>().WithOne().HasForeignKey<AgentPackageTarget>(t => t.ConnectionId).OnDelete(DeleteBehavior.Cascade);
            // A package a connection runs cannot be deleted (the command refuses first).
            e.HasOne<AgentPackage>().WithMany().HasForeignKey(t => t.PackageId).OnDelete(DeleteBehavior.Restrict);
        });
    }

    private static void ConfigureNotifications(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<NotificationSubscription>(e =>
        {
            e.ToTable("notification_subscriptions");
            e.HasIndex(s => s.Name).IsUnique();
            e.Property(s => s.Name).HasMaxLength(SubscriptionRules.NameMaxLength);
            e.Property(s => s.Channel).HasConversion<string>().HasMaxLength(20);
            e.Property(s => s.Events).HasConversion(JsonConverter<List<NotificationEventKind>>(), JsonComparer<List<NotificationEventKind>>());
            e.Property(s => s.EmailAddresses).HasConversion(JsonConverter<List<string>>(), JsonComparer<List<string>>());
            // A project's subscriptions go with it.
            e.HasOne<Project>().WithMany().HasForeignKey(s => s.ProjectId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<NotificationEvent>(e =>
        {
            e.ToTable("notification_events");
            e.Property(v => v.Kind).HasConversion<string>().HasMaxLength(40);
            // The dispatcher reads the undistributed few; distributed events stay only for their deliveries.
            e.HasIndex(v => v.Id).HasFilter("distributed = false").HasDatabaseName("ix_notification_events_undistributed");
        });
        modelBuilder.Entity<NotificationDelivery>(e =>
        {
            e.ToTable("notification_deliveries");
            e.HasOne<NotificationSubscription>().WithMany().HasForeignKey(d => d.SubscriptionId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(d => new { d.SubscriptionId, d.CreatedAt });
            e.HasIndex(d => new { d.Status, d.NextAttemptAt });
            // One collecting delivery per subscription: two replicas opening a window at once cannot both succeed.
            e.HasIndex(d => d.SubscriptionId).IsUnique().HasFilter($"status = {(int)DeliveryStatus.Collecting}")
                .HasDatabaseName("ix_notification_deliveries_collecting");
        });
        modelBuilder.Entity<NotificationDeliveryEvent>(e =>
        {
            e.ToTable("notification_delivery_events");
            e.HasKey(l => new { l.DeliveryId, l.EventId });
            e.HasIndex(l => l.EventId);
            e.HasOne<NotificationDelivery>().WithMany().HasForeignKey(l => l.DeliveryId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<NotificationAttempt>(e =>
        {
            e.ToTable("notification_attempts");
            e.HasIndex(a => a.DeliveryId);
            e.HasOne<NotificationDelivery>().WithMany().HasForeignKey(a => a.DeliveryId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<NotificationMark>(e =>
        {
            e.ToTable("notification_marks");
            e.HasKey(m => m.Key);
            e.Property(m => m.Key).HasMaxLength(200);
            e.HasIndex(m => m.RunId);
        });
    }

    private static void ApplySnakeCaseNames(ModelBuilder modelBuilder)
    {
        foreach (var entity in modelBuilder.Model.GetEntityTypes())
        {
            foreach (var property in entity.GetProperties())
            {
                property.SetColumnName(SnakeCase(property.Name));
            }
            foreach (var key in entity.GetKeys())
            {
                key.SetName(SnakeCase(key.GetName()!));
            }
            foreach (var foreignKey in entity.GetForeignKeys())
            {
                foreignKey.SetConstraintName(SnakeCase(foreignKey.GetConstraintName()!));
            }
            foreach (var index in entity.GetIndexes())
            {
                index.SetDatabaseName(SnakeCase(index.GetDatabaseName()!));
            }
        }
    }

    internal static string SnakeCase(string name)
    {
        var builder = new StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c))
            {
                if (i > 0 && name[i - 1] != '_' && (char.IsLower(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1]))))
                {
                    builder.Append('_');
                }
                builder.Append(char.ToLowerInvariant(c));
            }
            else
            {
                builder.Append(c);
            }
        }
        return builder.ToString();
    }

    private static ValueConverter<T, string> JsonConverter<T>() => new(
        value => JsonSerializer.Serialize(value, JsonOptions),
        json => JsonSerializer.Deserialize<T>(json, JsonOptions)!);

    private static ValueComparer<T> JsonComparer<T>() => new(
        (a, b) => JsonSerializer.Serialize(a, JsonOptions) == JsonSerializer.Serialize(b, JsonOptions),
        value => JsonSerializer.Serialize(value, JsonOptions).GetHashCode(StringComparison.Ordinal),
        value => JsonSerializer.Deserialize<T>(JsonSerializer.Serialize(value, JsonOptions), JsonOptions)!);
}
