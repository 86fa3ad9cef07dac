using System.Net;
using System.Net.Sockets;
using FlashMall.Kernel.Persistence;
using FlashMall.Payments;
using FlashMall.Payments.Provider;
using FlashMall.Payments.Simulator;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace FlashMall.UnitTests.Payments;

/// <summary>
/// What the provider adapter concludes from a transport failure that SocketsHttpHandler lets through
/// unwrapped. A connection the provider resets just after it opened can surface as a bare
/// <see cref="SocketException"/> (107, from reading the remote end point) instead of an
/// <see cref="HttpRequestException"/>; BrokenProviderTests hit it now and then, and the buyer got a
/// 500. The simulator's webhook sender had the same gap (the delivery ended with no retry). The failure
/// is injected here so the mapping is checked every run, not only when the race is lost.
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

    [Fact]
    public async Task The_simulators_webhook_is_retried_after_a_bare_socket_failure()
    {
        var attempts = 0;
        var handler = new FailingHandler(() => Interlocked.Increment(ref attempts) == 1
            ? throw new SocketException((int)SocketError.NotConnected)
            : new HttpResponseMessage(HttpStatusCode.OK));
        var options = Options(simulator => simulator.RetryBase = TimeSpan.FromMilliseconds(10));
        using var sender = new WebhookSender(new OneClient(handler), Secrets(options), options, TimeProvider.System, NullLogger<WebhookSender>.Instance);
        await sender.StartAsync(CancellationToken.None);

        sender.Send(new Uri("http://127.0.0.1:1/api/payments/webhook"), "evt-1", "{}"u8.ToArray());

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Volatile.Read(ref attempts) < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        await sender.StopAsync(CancellationToken.None);
        Assert.Equal(2, Volatile.Read(ref attempts)); // failed once, delivered on the retry, and not sent again
    }

    private static IOptions<PaymentsOptions> Options(Action<SimulatorOptions>? simulator = null)
    {
        var options = new PaymentsOptions
        {
            Provider = { BaseUrl = "http://127.0.0.1:1/", ApiKey = "test-api-key" },
            Webhook = { Secrets = ["test-webhook-secret"] },
        };
        simulator?.Invoke(options.Simulator);
        return Microsoft.Extensions.Options.Options.Create(options);
    }

    private static PaymentSecrets Secrets(IOptions<PaymentsOptions> options) =>
        new(options, Microsoft.Extensions.Options.Options.Create(new DataOptions()), NullLogger<PaymentSecrets>.Instance);

    private static HttpPaymentProvider Provider(HttpMessageHandler handler)
    {
        var options = Options();
        return new HttpPaymentProvider(new HttpClient(handler), new SelfAddress(server: null!, options), Secrets(options));
    }

    private sealed class FailingHandler(Func<HttpResponseMessage> answer) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(answer());
    }

    private sealed class OneClient(HttpMessageHandler handler) : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => new(handler, disposeHandler: false);
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
