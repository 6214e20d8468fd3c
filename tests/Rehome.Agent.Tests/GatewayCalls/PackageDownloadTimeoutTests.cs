using System.Net;
using Rehome.Agent.Polling;
using Rehome.Protocol;

namespace Rehome.Agent.Tests.GatewayCalls;

/// <summary>
/// A provisioning package download that outlasts the client's timeout is the network failing (the step's retry waits
/// and tries again), never a cancellation that ends the agent as a crash.
/// </summary>
public sealed class PackageDownloadTimeoutTests
{
    [Fact]
    public async Task A_download_whose_answer_does_not_come_in_time_fails_as_the_network()
    {
        using var http = new HttpClient(new Stalling(stallBody: false)) { BaseAddress = new Uri("http://rehome.test"), Timeout = TimeSpan.FromMilliseconds(200) };
        var gateway = new GatewayClient(http);
        gateway.UseCredential("rha_test.secret");

        var failure = await Assert.ThrowsAsync<HttpRequestException>(() => gateway.DownloadPackageAsync(Guid.NewGuid(), Guid.NewGuid(), JoinPurpose.Destination, CancellationToken.None));
        Assert.Contains("did not answer", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_download_whose_body_stalls_fails_as_the_network()
    {
        using var http = new HttpClient(new Stalling(stallBody: true)) { BaseAddress = new Uri("http://rehome.test"), Timeout = TimeSpan.FromMilliseconds(200) };
        var gateway = new GatewayClient(http);
        gateway.UseCredential("rha_test.secret");

        var failure = await Assert.ThrowsAsync<HttpRequestException>(() =>
            gateway.DownloadPackageAsync(Guid.NewGuid(), Guid.NewGuid(), JoinPurpose.Destination, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("stalled", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_slow_download_that_keeps_coming_is_waited_for_past_the_timeout()
    {
        using var http = new HttpClient(new Trickling()) { BaseAddress = new Uri("http://rehome.test"), Timeout = TimeSpan.FromSeconds(2) };
        var gateway = new GatewayClient(http);
        gateway.UseCredential("rha_test.secret");

        var package = await gateway.DownloadPackageAsync(Guid.NewGuid(), Guid.NewGuid(), JoinPurpose.Destination, CancellationToken.None);

        Assert.Equal(Trickling.Chunks, package.Length);
    }

    [Fact]
    public async Task The_callers_own_cancellation_stays_a_cancellation()
    {
        using var http = new HttpClient(new Stalling(stallBody: true)) { BaseAddress = new Uri("http://rehome.test"), Timeout = TimeSpan.FromSeconds(30) };
        var gateway = new GatewayClient(http);
        gateway.UseCredential("rha_test.secret");
        using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gateway.DownloadPackageAsync(Guid.NewGuid(), Guid.NewGuid(), JoinPurpose.Destination, stop.Token));
    }

    /// <summary>Never answers (<paramref name="stallBody"/> false), or answers 200 with a body that never comes.</summary>
    private sealed class Stalling(bool stallBody) : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (!stallBody)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(new SlowStream(1, Timeout.InfiniteTimeSpan)) };
        }
    }

    /// <summary>Answers 200 with a body of <see cref="Chunks"/> bytes, one every half second: 3 s in all, past the 2 s timeout.</summary>
    private sealed class Trickling : HttpMessageHandler
    {
        public const int Chunks = 6;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(new SlowStream(Chunks, TimeSpan.FromMilliseconds(500))) });
    }

    /// <summary>A body of <paramref name="bytes"/> bytes, one after each <paramref name="gap"/>.</summary>
    private sealed class SlowStream(int bytes, TimeSpan gap) : Stream
    {
        private int sent;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (sent == bytes)
            {
                return 0;
            }
            await Task.Delay(gap, cancellationToken);
            buffer.Span[0] = 1;
            sent++;
            return 1;
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
