using System.Net;
using System.Text;
using System.Threading.Channels;
using FlashMall.Payments.Webhooks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlashMall.Payments.Simulator;

/// <summary>
/// The simulated provider's webhook sender, behaving like a real one: each event is signed at each
/// attempt (a fresh <c>t</c>, one <c>v1</c> per signing secret), sent at least once (some twice, by
/// <c>Payments:Simulator:DuplicateRate</c>), several at a time and so in no guaranteed order, and
/// retried with doubling back-off on a network error, a 5xx or a 429. A 2xx, or 409 (the receiver
/// already has it), settles it; another 4xx is a permanent refusal and is logged.
/// </summary>
internal sealed partial class WebhookSender(
    IHttpClientFactory clients, PaymentSecrets secrets, IOptions<PaymentsOptions> options, TimeProvider clock, ILogger<WebhookSender> logger)
    : BackgroundService
{
    public const string ClientName = "payments-simulator-webhooks";
    private const int MaxConcurrent = 16;
    private static readonly TimeSpan MaxDelay = TimeSpan.FromMinutes(5);

    private readonly Channel<(Uri Target, byte[] Body, string EventId)> _queue = Channel.CreateUnbounded<(Uri, byte[], string)>();
    private readonly SemaphoreSlim _slots = new(MaxConcurrent);

    public void Send(Uri target, string eventId, byte[] body)
    {
        _queue.Writer.TryWrite((target, body, eventId));
        if (Random.Shared.NextDouble() < options.Value.Simulator.DuplicateRate)
        {
            _queue.Writer.TryWrite((target, body, eventId));
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var running = new List<Task>();
        try
        {
            await foreach (var delivery in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                running.RemoveAll(t => t.IsCompleted);
                running.Add(Task.Run(() => DeliverAsync(delivery.Target, delivery.Body, delivery.EventId, stoppingToken), CancellationToken.None));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: deliveries still waiting are dropped, as a provider's outage would drop them; reconciliation settles those payments.
        }
        try
        {
            await Task.WhenAll(running);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Deliveries waiting out a back-off stop with the node.
        }
    }

    private async Task DeliverAsync(Uri target, byte[] body, string eventId, CancellationToken stoppingToken)
    {
        var simulator = options.Value.Simulator;
        var delay = simulator.RetryBase;
        for (var attempt = 1; attempt <= simulator.MaxAttempts; attempt++)
        {
            HttpStatusCode? status = null;
            // A slot per attempt, not per delivery: deliveries waiting out their back-off hold none,
            // so one unreachable receiver cannot hold up every other event.
            await _slots.WaitAsync(stoppingToken);
            try
            {
                using var client = clients.CreateClient(ClientName);
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new("application/json") { CharSet = Encoding.UTF8.WebName };
                using var request = new HttpRequestMessage(HttpMethod.Post, target) { Content = content };
                request.Headers.Add(WebhookSignature.HeaderName, WebhookSignature.Sign(secrets.Signing, clock.GetUtcNow().ToUnixTimeSeconds(), body));
                using var response = await client.SendAsync(request, stoppingToken);
                status = response.StatusCode;
                if (response.IsSuccessStatusCode || status == HttpStatusCode.Conflict)
                {
                    return;
                }
                if ((int)status < 500 && status != HttpStatusCode.TooManyRequests)
                {
                    LogRefused(logger, eventId, (int)status);
                    return;
                }
            }
            // A bare SocketException or IOException is a network error too: SocketsHttpHandler lets one through
            // unwrapped when the receiver resets a connection just as it opens (see HttpPaymentProvider), and
            // it used to end the delivery with no retry and no log.
            catch (Exception ex) when (ex is HttpRequestException or System.Net.Sockets.SocketException or IOException
                || (ex is OperationCanceledException && !stoppingToken.IsCancellationRequested))
            {
                LogAttemptFailed(logger, eventId, attempt, ex.Message);
            }
            finally
            {
                _slots.Release();
            }
            if (attempt == simulator.MaxAttempts)
            {
                LogGaveUp(logger, eventId, attempt, status is { } s ? (int)s : null);
                return;
            }
            await Task.Delay(delay, clock, stoppingToken);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxDelay.Ticks));
        }
    }

    public override void Dispose()
    {
        _slots.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Simulator: webhook {EventId} refused with {Status}; not retried")]
    private static partial void LogRefused(ILogger logger, string eventId, int status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Simulator: webhook {EventId} attempt {Attempt} failed: {Error}")]
    private static partial void LogAttemptFailed(ILogger logger, string eventId, int attempt, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Simulator: webhook {EventId} given up after {Attempts} attempts (last status {Status})")]
    private static partial void LogGaveUp(ILogger logger, string eventId, int attempts, int? status);
}
