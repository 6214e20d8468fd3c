using System.Collections.Concurrent;
using System.Net;
using Rehome.Agent.Tests.Rejoin;
using Rehome.Protocol;

namespace Rehome.Agent.Tests.GatewayCalls;

/// <summary>
/// A poll whose answer never arrives may have leased a job: the next poll says so, and the server then gives the job it
/// sends again a whole lease. Only the poll right after one that may have reached the server without its answer
/// coming back says it.
/// </summary>
public sealed class UnansweredPollTests
{
    [Fact]
    public async Task The_poll_after_one_that_got_no_answer_says_so_and_the_poll_after_an_answered_one_does_not()
    {
        using var device = new RejoinDevice(RejoinDevice.ActiveDirectoryOffline);
        // No job in hand: the agent goes straight to its polls.
        Directory.Delete(device.JobsFolder, recursive: true);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var server = new ScriptedPolls(
            [
                // Lost on the way back (a reset after the request went, or the client's timeout): it may have leased a job.
                () => throw new HttpRequestException("connection reset"),
                () => new HttpResponseMessage(HttpStatusCode.NoContent),
                // A busy server's refusal and a connection never made cannot have leased anything.
                () => new HttpResponseMessage(HttpStatusCode.ServiceUnavailable),
                () => throw new HttpRequestException(HttpRequestError.ConnectionError, "connection refused"),
                () => new HttpResponseMessage(HttpStatusCode.NoContent),
            ], stop);

        await device.RunAgentAsync(server, stop.Token);

        Assert.Equal(
            ["wait=1", "wait=1&unanswered=true", "wait=1", "wait=1", "wait=1"],
            server.Queries.ToArray());
    }

    /// <summary>Checks the agent in, then answers its polls from <paramref name="answers"/> in order, recording each poll's query; stops after the last.</summary>
    private sealed class ScriptedPolls(IReadOnlyList<Func<HttpResponseMessage>> answers, CancellationTokenSource stop) : HttpMessageHandler
    {
        private int polls;

        public ConcurrentQueue<string> Queries { get; } = new();

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri!.AbsolutePath != AgentProtocol.BasePath + "/poll")
            {
                return Task.FromResult(new HttpResponseMessage(HttpStatusCode.NoContent));
            }
            Queries.Enqueue(request.RequestUri.Query.TrimStart('?'));
            var index = Interlocked.Increment(ref polls) - 1;
            if (index >= answers.Count - 1)
            {
                stop.Cancel();
            }
            return index < answers.Count ? Task.FromResult(answers[index]()) : Task.FromCanceled<HttpResponseMessage>(stop.Token);
        }
    }
}
