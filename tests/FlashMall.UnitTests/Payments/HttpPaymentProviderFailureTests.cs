using System.Net;
using System.Net.Sockets;
using FlashMall.Kernel.Persistence;
using FlashMall.Payments;
using FlashMall.Payments.Provider;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace FlashMall.UnitTests.Payments;

/// <summary>
/// What the provider adapter concludes from a transport failure that SocketsHttpHandler lets through
/// unwrapped. A connection the provider resets just after it opened can surface as a bare
/// <see cref="SocketException"/> (107, from reading the remote end point) instead of an
/// <see cref="HttpRequestException"/>; BrokenProviderTests hit it now and then, and the buyer got a
/// 500. The failure is injected here so the mapping is checked every run, not only when the race is lost.
/// </summary>
public sealed class HttpPaymentProviderFailureTests
{
    private static readonly ProviderPaymentRequest Request = new(Guid.CreateVersion7(), 9900, "CNY", "order", new Uri("http://127.0.0.1:1/api/payments/webhook"));

    [Theory]
    [InlineData(SocketError.NotConnected)]
    [InlineData(SocketError.ConnectionReset)]
    public async Task A_bare_socket_failure_while_sending_is_an_answer_lost_not_a_crash(SocketError error)
    {
        var provider = Provider(new FailingHandler(() => throw new SocketException((int)error)));

        var failure = await Assert.ThrowsAsync<PaymentProviderException>(() => provider.CreateAsync(Request, CancellationToken.None));

        Assert.Equal(ProviderFailure.Unknown, failure.Failure);
        Assert.IsType<SocketException>(failure.InnerException);
    }

    /// <summary>The body is read while the client buffers the answer, so the lost connection comes out of the send.</summary>
    [Fact]
    public async Task A_connection_lost_while_reading_the_answer_is_an_answer_lost_not_a_crash()
    {
        var provider = Provider(new FailingHandler(() => new HttpResponseMessage(HttpStatusCode.OK)
        {
            Content = new StreamContent(new BrokenStream()) { Headers = { ContentType = new("application/json") } },
        }));

        var failure = await Assert.ThrowsAsync<PaymentProviderException>(() => provider.CreateAsync(Request, CancellationToken.None));

        Assert.Equal(ProviderFailure.Unknown, failure.Failure);
    }

    [Fact]
    public async Task The_callers_own_cancellation_is_not_turned_into_a_provider_failure()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var provider = Provider(new FailingHandler(() => throw new OperationCanceledException(cancelled.Token)));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => provider.CreateAsync(Request, cancelled.Token));
    }

    private static HttpPaymentProvider Provider(HttpMessageHandler handler)
    {
        var options = Options.Create(new PaymentsOptions
        {
            Provider = { BaseUrl = "http://127.0.0.1:1/", ApiKey = "test-api-key" },
            Webhook = { Secrets = ["test-webhook-secret"] },
        });
        var secrets = new PaymentSecrets(options, Options.Create(new DataOptions()), NullLogger<PaymentSecrets>.Instance);
        return new HttpPaymentProvider(new HttpClient(handler), new SelfAddress(server: null!, options), secrets);
    }

    private sealed class FailingHandler(Func<HttpResponseMessage> answer) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(answer());
    }

    /// <summary>A response body whose connection drops on the first read.</summary>
    private sealed class BrokenStream : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new IOException("The connection was reset.");
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
