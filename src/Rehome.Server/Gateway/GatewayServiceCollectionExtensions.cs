using Microsoft.Extensions.Options;
using Rehome.Server.Hosting;

namespace Rehome.Server.Gateway;

public static class GatewayServiceCollectionExtensions
{
    /// <summary>The agent gateway: its options, the agents' memory and the job wake-up signals.</summary>
    public static IServiceCollection AddRehomeGateway(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSettings<GatewayOptions>(configuration, GatewayOptions.Section);
        services.AddSingleton<IValidateOptions<GatewayOptions>, GatewayOptionsRules>();
        services.AddSingleton<AgentRegistry>();
        services.AddSingleton<AgentCredentialCheck>();
        services.AddSingleton<GatewayStoreLane>();
        services.AddScoped<GatewayTurn>();
        services.AddSingleton<JobSignals>();
        services.AddScoped<AssignmentBuilder>();
        services.AddScoped<AgentEnrollment>();
        services.AddScoped<ReturnTickets>();
        services.AddSingleton<AgentPolls>();
        services.AddSingleton<AgentPollEndpoint>();
        services.AddScoped<JobReports>();
        services.AddScoped<JobDirectoryCalls>();
        services.AddSingleton<LeaseBatcher>();
        services.AddHostedService<PollRecheck>();
        return services;
    }
}
