using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using FlashMall.RabbitMq;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace FlashMall.ApiTests;

/// <summary>
/// A broker that accepts the socket and never answers the AMQP handshake (a local TCP stand-in that
/// reads and stays silent): connecting fails after the connect timeout, with what happened, and the
/// next attempt is not held behind the first.
/// </summary>
public sealed class RabbitMqConnectionTests
{
    [Fact]
    public async Task A_broker_that_never_answers_the_handshake_fails_the_attempt_after_the_timeout_and_the_next_attempt_runs()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        using var stop = new CancellationTokenSource();
        var accepted = 0;
        var sockets = new List<Socket>();
        var acceptor = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var socket = await silent.AcceptSocketAsync(stop.Token);
                Interlocked.Increment(ref accepted);
                sockets.Add(socket); // read nothing back, answer nothing, keep it open
            }
        });

        var options = Options.Create(new RabbitMqConnectionOptions
        {
            ConnectionString = $"amqp://guest:guest@127.0.0.1:{port}/",
            ConnectTimeout = TimeSpan.FromSeconds(2),
        });
        await using var connection = new RabbitMqConnection(options, NullLogger<RabbitMqConnection>.Instance);

        for (var attempt = 1; attempt <= 2; attempt++)
        {
            var acceptedBefore = Volatile.Read(ref accepted);
            var started = Stopwatch.StartNew();
            var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => connection.GetAsync(CancellationToken.None));
            Assert.Contains("did not complete the handshake within 2 s", failure.Message);
            // The timeout, then RabbitMQ.Client's own abort of the failed open (up to 5 s): about 7 s here.
            Assert.InRange(started.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(20));
            Assert.False(connection.IsOpen);
            Assert.True(Volatile.Read(ref accepted) > acceptedBefore, "each attempt reaches the broker anew");
        }

        // The caller's own cancellation stays a cancellation, not a connection failure.
        using var cancelled = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connection.GetAsync(cancelled.Token));

        stop.Cancel();
        silent.Stop();
        await Assert.ThrowsAnyAsync<Exception>(() => acceptor);
        foreach (var socket in sockets)
        {
            socket.Dispose();
        }
    }
}
