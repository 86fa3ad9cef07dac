using FlashMall.FlashSales.Endpoints;
using StackExchange.Redis;

namespace FlashMall.FlashSales.Ledger.Redis;

/// <summary>
/// One sale's purchases on their way to the reserve script, grouped as a database groups commits.
/// A purchase goes at once while fewer than <see cref="MaxInFlight"/> calls for the sale are out;
/// otherwise it waits for one of them to come back, and the next call carries every purchase that
/// waited (up to <see cref="MaxBatch"/>). A lone buyer waits for nothing; in a rush one script
/// call, one read of the sale's terms and one command on the wire serve dozens of purchases,
/// which is most of what the shard spends per purchase (docs/BENCHMARKS.md). Each purchase still
/// gets its own answer; the script treats them one after the other, as separate calls would.
/// </summary>
internal sealed class ReserveBatcher(IConnectionMultiplexer redis, SaleKeys keys, TimeProvider clock)
{
    /// <summary>Purchases per script call at most (the shard runs one such call in about half a millisecond).</summary>
    public const int MaxBatch = 64;

    /// <summary>Calls for one sale out at once: the next batch gathers while one is on its way.</summary>
    public const int MaxInFlight = 4;

    private readonly Lock _gate = new();
    private readonly Queue<Purchase> _waiting = new();
    private int _inFlight;

    /// <summary>
    /// The reserve script's code for this purchase (see <see cref="RedisLedgerScripts.Reserve"/>),
    /// sent under <paramref name="epoch"/>; throws what the call threw.
    /// </summary>
    public Task<int> ReserveAsync(string epoch, Guid buyer, int units, Guid reservationId, bool keyed, string? traceParent)
    {
        var purchase = new Purchase(epoch, buyer.ToString("N"), units, reservationId.ToString("N"), keyed, traceParent ?? "");
        bool send;
        lock (_gate)
        {
            _waiting.Enqueue(purchase);
            send = _inFlight < MaxInFlight;
            if (send)
            {
                _inFlight++;
            }
        }
        if (send)
        {
            _ = SendAsync();
        }
        return purchase.Task;
    }

    /// <summary>Sends what waits, batch after batch, until nothing does; one of at most <see cref="MaxInFlight"/> such loops.</summary>
    private async Task SendAsync()
    {
        while (true)
        {
            List<Purchase> batch;
            lock (_gate)
            {
                if (_waiting.Count == 0)
                {
                    _inFlight--;
                    return;
                }
                batch = new List<Purchase>(Math.Min(_waiting.Count, MaxBatch));
                // One epoch per call: purchases admitted under another (a rebuild in between) go in the next.
                var epoch = _waiting.Peek().Epoch;
                while (batch.Count < MaxBatch && _waiting.TryPeek(out var next) && next.Epoch == epoch)
                {
                    batch.Add(_waiting.Dequeue());
                }
            }
            try
            {
                var reply = await CallAsync(batch);
                if (reply.Resp2Type == ResultType.Array)
                {
                    var codes = (RedisResult[])reply!;
                    if (codes.Length != batch.Count)
                    {
                        throw new InvalidOperationException($"The reserve script answered {codes.Length} codes for {batch.Count} purchases.");
                    }
                    for (var i = 0; i < batch.Count; i++)
                    {
                        batch[i].TrySetResult((int)codes[i]);
                    }
                }
                else
                {
                    var code = (int)reply; // the epoch, a lost key or the batch's own arguments: the same for all
                    foreach (var purchase in batch)
                    {
                        purchase.TrySetResult(code);
                    }
                }
            }
            catch (Exception ex)
            {
                foreach (var purchase in batch)
                {
                    purchase.TrySetException(ex);
                }
            }
        }
    }

    private async Task<RedisResult> CallAsync(List<Purchase> batch)
    {
        var arguments = new RedisValue[3 + (5 * batch.Count)];
        arguments[0] = batch[0].Epoch;
        arguments[1] = clock.GetUtcNow().ToUnixTimeMilliseconds();
        arguments[2] = FlashSaleEndpoints.MaxPerUserLimit;
        var at = 3;
        foreach (var purchase in batch)
        {
            arguments[at++] = purchase.Buyer;
            arguments[at++] = purchase.Units;
            arguments[at++] = purchase.ReservationId;
            arguments[at++] = purchase.Keyed ? "1" : "0";
            arguments[at++] = purchase.TraceParent;
        }
        var database = redis.GetDatabase();
        try
        {
            // EVALSHA with the hash computed once: given the text, the client finds the hash by
            // looking the whole script up in a dictionary on every call.
            return await database.ScriptEvaluateAsync(RedisLedgerScripts.ReserveHash, keys.Reserve, arguments);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            // Redis lost its script cache (a restart, a failover): EVAL loads it again.
            return await database.ScriptEvaluateAsync(RedisLedgerScripts.Reserve, keys.Reserve, arguments);
        }
    }

    private sealed class Purchase(string epoch, string buyer, int units, string reservationId, bool keyed, string traceParent)
        : TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public string Epoch { get; } = epoch;
        public string Buyer { get; } = buyer;
        public int Units { get; } = units;
        public string ReservationId { get; } = reservationId;
        public bool Keyed { get; } = keyed;
        public string TraceParent { get; } = traceParent;
    }
}
