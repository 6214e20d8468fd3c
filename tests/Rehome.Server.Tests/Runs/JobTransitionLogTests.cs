using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Rehome.Core.Runs;
using Rehome.Server.Runs;
using Rehome.Server.Store;
using Rehome.Server.Tests.Infrastructure;

namespace Rehome.Server.Tests.Runs;

/// <summary>Every job transition says what happened, with the ids to find the job by in scope.</summary>
public sealed class JobTransitionLogTests
{
    [Fact]
    public async Task A_completion_is_logged_with_the_run_job_mapping_and_agent_ids_in_scope()
    {
        await using var host = await ServerHost.StartAsync(StoreProvider.Sqlite);
        var project = await host.Client.CreateProjectAsync();
        var mapping = (await host.Client.ImportDevicesAsync(project, "LOG-", 1)).Single();
        await host.Client.PostJsonAsync($"/api/v1/projects/{project}/runs", new { kinds = new[] { "RejoinDomain" }, mappingIds = new[] { mapping } });
        var capture = new ScopeCapture();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(capture).SetMinimumLevel(LogLevel.Debug));
        await using var scope = host.Scope();
        var transitions = ActivatorUtilities.CreateInstance<JobTransitions>(scope.ServiceProvider, loggers.CreateLogger<JobTransitions>());
        var agent = Guid.NewGuid();
        var waiting = await scope.ServiceProvider.GetRequiredService<RehomeDbContext>().Jobs.Where(j => j.MappingId == mapping).Select(j => j.Id).SingleAsync();
        await transitions.DestinationPreparedAsync(waiting, null, null, default);
        var job = await transitions.LeaseNextAsync(mapping, agent, TimeSpan.FromMinutes(1), default);
        Assert.NotNull(job);

        await transitions.CompleteAsync(job.Id, agent, job.LeaseToken!.Value, new JobCompletion(JobStatus.Finished, new JobProgress(4, 4, 1, 0), null, null), default);

        var line = Assert.Single(capture.Lines, l => l.Level == LogLevel.Information && l.Message.StartsWith("Job completed Finished", StringComparison.Ordinal));
        Assert.Equal(job.RunId, line.Scope[JobTransitionLog.RunId]);
        Assert.Equal(job.Id, line.Scope[JobTransitionLog.JobId]);
        Assert.Equal(mapping, line.Scope[JobTransitionLog.MappingId]);
        Assert.Equal(agent, line.Scope[JobTransitionLog.AgentId]);
        Assert.Contains(capture.Lines, l => l.Message.StartsWith("Job RejoinDomain leased", StringComparison.Ordinal) && l.Scope.Count == 4);
    }

    /// <summary>Keeps each line with the values of the scopes around it.</summary>
    private sealed class ScopeCapture : ILoggerProvider, ISupportExternalScope
    {
        private IExternalScopeProvider scopes = new LoggerExternalScopeProvider();

        public ConcurrentQueue<(LogLevel Level, string Message, Dictionary<string, object?> Scope)> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => scopes = scopeProvider;

        public void Dispose()
        {
        }

        private sealed class Logger(ScopeCapture owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner.scopes.Push(state);

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var values = new Dictionary<string, object?>();
                owner.scopes.ForEachScope((scope, into) =>
                {
                    if (scope is IEnumerable<KeyValuePair<string, object?>> pairs)
                    {
                        foreach (var (key, value) in pairs)
                        {
                            into[key] = value;
                        }
                    }
                }, values);
                owner.Lines.Enqueue((logLevel, formatter(state, exception), values));
            }
        }
    }
}
