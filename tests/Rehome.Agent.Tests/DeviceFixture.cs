using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;
using Rehome.Agent.Jobs;
using Rehome.Agent.Journal;
using Rehome.Agent.Platform;
using Rehome.Agent.Platform.Simulated;
using Rehome.Agent.Polling;
using Rehome.Protocol;

namespace Rehome.Agent.Tests;

/// <summary>A simulated device in a temporary folder and a job context on it (no server: the steps under test do not call it).</summary>
public sealed class DeviceFixture : IDisposable
{
    public DeviceFixture(IReadOnlyList<PromptAnswer>? answers = null, bool loggedOn = true, JobPolicy? policy = null)
    {
        Folder = Path.Combine(Path.GetTempPath(), "rehome-agent-tests", Guid.NewGuid().ToString("N"));
        SimulatedDeviceBuilder.Create(Path.Combine(Folder, "device"), new SimulatedDeviceSpec
        {
            DeviceName = "CTS-PC00001",
            DomainName = "contoso.example",
            Users = [new SimulatedUser("user00001", "S-1-5-21-1004336348-1177238915-682003330-10001")],
            LoggedOn = loggedOn,
            PromptAnswers = answers ?? [PromptAnswer.StartNow],
            FilesPerUser = 2,
        });
        Platform = new SimulatedDevicePlatform(Path.Combine(Folder, "device"), new NetworkGate(), Time);
        var assignment = new JobAssignment
        {
            JobId = Guid.NewGuid(),
            RunId = Guid.NewGuid(),
            LeaseToken = Guid.NewGuid(),
            Kind = AgentJobKind.RejoinDomain,
            LeaseSeconds = 60,
            Mapping = new MappingTarget("CTS-PC00001", "FAB-PC00001", null, @"CONTOSO\user00001", "user00001@fabrikam.example"),
            Policy = policy ?? new JobPolicy(),
        };
        Journal = JobJournal.Create(Path.Combine(Folder, "jobs"), assignment, Time.GetUtcNow());
        Context = new JobContext(Journal, new JobLog(Journal.PathOf("log.jsonl"), Time), Platform, Platform.Session,
            new GatewayClient(new HttpClient()), Time, CancellationToken.None);
    }

    public string Folder { get; }

    public StepClock Time { get; } = new(new DateTimeOffset(2026, 11, 28, 9, 0, 0, TimeSpan.Zero));

    public SimulatedDevicePlatform Platform { get; }

    public JobJournal Journal { get; }

    public JobContext Context { get; }

    /// <summary>
    /// Runs a step, moving the fake clock a minute at a time while the step waits on one of its timers, up to
    /// <paramref name="limit"/>: the clock moves only once the step waits, never against a real interval.
    /// </summary>
    public async Task<TimeSpan> RunAsync(JobStep step, TimeSpan limit)
    {
        var start = Time.GetUtcNow();
        var running = step.RunAsync(Context);
        while (!running.IsCompleted && Time.GetUtcNow() - start < limit && await Time.NextTimerAsync(running) is { } timer)
        {
            while (!timer.Fired && Time.GetUtcNow() - start < limit)
            {
                Time.Advance(TimeSpan.FromMinutes(1));
            }
        }
        await running.WaitAsync(TimeSpan.FromSeconds(5));
        return Time.GetUtcNow() - start;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // Left for the temp folder's clean-up.
        }
    }
}

/// <summary>A fake clock that tells when code under test starts a timer on it, and when that timer fired.</summary>
public sealed class StepClock(DateTimeOffset start) : FakeTimeProvider(start)
{
    private readonly Channel<StartedTimer> started = Channel.CreateUnbounded<StartedTimer>();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new StartedTimer();
        var inner = base.CreateTimer(s =>
        {
            timer.Fired = true;
            callback(s);
        }, state, dueTime, period);
        started.Writer.TryWrite(timer);
        return inner;
    }

    /// <summary>The next timer started, or null once <paramref name="running"/> ended without starting one.</summary>
    public async Task<StartedTimer?> NextTimerAsync(Task running)
    {
        if (started.Reader.TryRead(out var ready))
        {
            return ready;
        }
        using var stop = new CancellationTokenSource();
        var next = started.Reader.WaitToReadAsync(stop.Token).AsTask();
        if (await Task.WhenAny(next, running) != next)
        {
            await stop.CancelAsync();
            return started.Reader.TryRead(out var late) ? late : null;
        }
        return started.Reader.TryRead(out var timer) ? timer : null;
    }
}

/// <summary>A timer started on a <see cref="StepClock"/>.</summary>
public sealed class StartedTimer
{
    private volatile bool fired;

    public bool Fired
    {
        get => fired;
        set => fired = value;
    }
}
