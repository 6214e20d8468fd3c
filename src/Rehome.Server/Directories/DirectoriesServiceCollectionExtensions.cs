namespace Rehome.Server.Directories;

/// <summary>Which directory the server works with. Bound from <c>Rehome:Directories</c>.</summary>
public sealed class DirectoriesOptions
{
    public const string Section = "Rehome:Directories";

    /// <summary>
    /// <c>None</c> (the default: rejoins wait for a destination directory), or <c>Simulated</c> (an in-memory source
    /// and destination for the rehearsal, the demo and tests).
    /// </summary>
    public string Mode { get; set; } = "None";
}

public static class DirectoriesServiceCollectionExtensions
{
    public static IServiceCollection AddRehomeDirectories(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(DirectoriesOptions.Section).Get<DirectoriesOptions>() ?? new DirectoriesOptions();
        switch (options.Mode.ToUpperInvariant())
        {
            case "SIMULATED":
                services.AddSingleton(configuration.GetSection(DirectoriesOptions.Section + ":Simulated").Get<SimulatedDirectoryOptions>() ?? new SimulatedDirectoryOptions());
                services.AddSingleton<SimulatedDirectory>();
                services.AddSingleton<IMigrationDirectory>(sp => sp.GetRequiredService<SimulatedDirectory>());
                break;
            case "NONE":
                services.AddSingleton<IMigrationDirectory, NotConnectedDirectory>();
                break;
            default:
                throw new InvalidOperationException($"{DirectoriesOptions.Section}:Mode is '{options.Mode}'; it takes None or Simulated.");
        }
        return services;
    }
}
