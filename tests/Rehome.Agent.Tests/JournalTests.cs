using Microsoft.Extensions.Time.Testing;
using Rehome.Agent.Journal;
using Rehome.Agent.Platform.Simulated;
using Rehome.Protocol;
using Rehome.Security.Stores;

namespace Rehome.Agent.Tests;

public sealed class JournalTests
{
    [Fact]
    public void A_journal_reads_back_what_was_saved_and_a_leftover_temporary_file_changes_nothing()
    {
        using var device = new DeviceFixture();
        device.Journal.Update(r => r with { NextStep = 3, RunningStep = "LeaveSource" });
        device.Journal.Set("rejoin.previous", "{}");
        // A crash in the middle of the next save leaves a partial temporary file beside the journal.
        File.WriteAllText(device.Journal.PathOf("journal.json.tmp"), "{\"assignment\": {\"jobI");

        var reopened = JobJournal.Open(Path.GetDirectoryName(device.Journal.Folder)!, device.Journal.JobId)!;

        Assert.Equal(3, reopened.Record.NextStep);
        Assert.Equal("LeaveSource", reopened.Record.RunningStep);
        Assert.Equal("{}", reopened.Get("rejoin.previous"));
        Assert.Single(JobJournal.Unfinished(Path.GetDirectoryName(device.Journal.Folder)!));
    }

    [Fact]
    public void Closed_journals_are_not_unfinished()
    {
        using var device = new DeviceFixture();
        device.Journal.Update(r => r with { Phase = JournalPhase.Closed });

        Assert.Empty(JobJournal.Unfinished(Path.GetDirectoryName(device.Journal.Folder)!));
    }

    [Fact]
    public void A_log_line_torn_by_a_crash_is_kept_as_a_warning_not_fatal()
    {
        using var device = new DeviceFixture();
        var log = new JobLog(device.Journal.PathOf("log.jsonl"), device.Time);
        log.Information("first");
        File.AppendAllText(device.Journal.PathOf("log.jsonl"), "{\"at\":\"2026-");

        var lines = log.Read(0, 10);

        Assert.Equal(["first", "(a log line torn by a crash) {\"at\":\"2026-"], lines.Select(l => l.Text));
        Assert.Equal("Warning", lines[1].Level);
    }

    [Fact]
    public void The_simulated_store_refuses_paths_outside_the_device()
    {
        using var device = new DeviceFixture();

        Assert.Equal(SecurityStoreErrorKind.Other, Assert.Throws<SecurityStoreException>(() => device.Platform.Store.ReadDescriptor(@"C:\Users\..\..\..\etc\passwd")).Kind);
        Assert.Equal(SecurityStoreErrorKind.NotFound, Assert.Throws<SecurityStoreException>(() => device.Platform.Store.ReadDescriptor(@"D:\data")).Kind);
        Assert.Equal(SecurityStoreErrorKind.NotFound, Assert.Throws<SecurityStoreException>(() => device.Platform.Store.ReadDescriptor(@"C:\Nothing\here")).Kind);
    }

    [Fact]
    public async Task A_device_offline_fails_every_request_until_it_is_back()
    {
        var time = new FakeTimeProvider();
        using var gate = new NetworkGate(new StaticHandler(), time);
        using var client = new HttpClient(gate, disposeHandler: false) { BaseAddress = new Uri("http://device.test") };
        gate.GoOffline(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("/"));
        time.Advance(TimeSpan.FromMilliseconds(299));
        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("/"));
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True((await client.GetAsync("/")).IsSuccessStatusCode);
    }

    private sealed class StaticHandler : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.OK));
    }

    [Fact]
    public void Each_job_has_steps_with_distinct_names()
    {
        foreach (var kind in Enum.GetValues<AgentJobKind>())
        {
            var plan = Jobs.JobPlans.For(kind, new DeviceFacts { DeviceName = "x", OsVersion = "", AgentVersion = "" });
            foreach (var steps in new[] { plan.Steps, plan.ReturnSteps })
            {
                var names = steps.Select(s => s.Name).ToList();
                Assert.Equal(names.Count, names.Distinct().Count());
            }
        }
    }
}
