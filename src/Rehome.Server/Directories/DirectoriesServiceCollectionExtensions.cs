using Microsoft.Extensions.DependencyInjection.Extensions;
using Rehome.Directory;
using Rehome.Directory.OfflineJoin;
using Rehome.Server.Directories.Connected;

namespace Rehome.Server.Directories;

/// <summary>Which directory the server works with. Bound from <c>Rehome:Directories</c>.</summary>
public sealed class DirectoriesOptions
{
    public const string Section = "Rehome:Directories";

    /// <summary>
    /// <c>Connected</c> (the default: each project's connections reach their real Active Directory domains and
    /// Entra ID tenants), <c>Simulated</c> (an in-memory source and destination for the rehearsal, the demo and
    /// tests), or <c>None</c> (rejoins wait for a destination; nothing is read or written in any directory).
    /// </summary>
    public string Mode { get; set; } = "Connected";

    /// <summary>
    /// How long an unreachable directory is retried for one job, with back-off, before the job fails with the
    /// directory's reason.
    /// </summary>
    public TimeSpan RetryWindow { get; set; } = TimeSpan.FromMinutes(30);
}

public static class DirectoriesServiceCollectionExtensions
{
    public static IServiceCollection AddRehomeDirectories(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(DirectoriesOptions.Section).Get<DirectoriesOptions>() ?? new DirectoriesOptions();
        var connected = configuration.GetSection(ConnectedDirectoryOptions.Section).Get<ConnectedDirectoryOptions>() ?? new ConnectedDirectoryOptions();
        services.AddSingleton(options);
        services.AddSingleton(connected);
        services.AddScoped<DirectoryRetries>();
        // Connection tests and discovery always reach the real directories, whatever the mode.
        services.TryAddSingleton<IDirectoryFactory>(new DirectoryFactory(new SambaOfflineJoinOptions { NetCommand = connected.NetCommand }));
        services.AddSingleton<DirectoryClients>();
        services.AddSingleton<ProjectIdentities>();
        services.AddScoped<ConnectionTester>();
        services.AddScoped<MappingDiscovery>();
        services.AddScoped<ReadinessCheck>();
        services.AddOptions<ReadinessOptions>().Bind(configuration.GetSection(ReadinessOptions.Section));
        switch (options.Mode.ToUpperInvariant())
        {
            case "CONNECTED":
                services.AddSingleton<ConnectedDirectory>();
                services.AddSingleton<IMigrationDirectory>(sp => sp.GetRequiredService<ConnectedDirectory>());
                break;
            case "SIMULATED":
                services.AddSingleton(configuration.GetSection(DirectoriesOptions.Section + ":Simulated").Get<SimulatedDirectoryOptions>() ?? new SimulatedDirectoryOptions());
                services.AddSingleton<SimulatedDirectory>();
                services.AddSingleton<IMigrationDirectory>(sp => sp.GetRequiredService<SimulatedDirectory>());
                break;
            case "NONE":
                services.AddSingleton<IMigrationDirectory, NotConnectedDirectory>();
                break;
            default:
                throw new InvalidOperationException($"{DirectoriesOptions.Section}:Mode is '{options.Mode}'; it takes Connected, Simulated or None.");
        }
        return services;
    }
}
