using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace FlashMall.Risk.Velocity;

/// <summary>One attempt's place in a rule's window: the rule, whose window (a user, device or IP), and its length.</summary>
internal readonly record struct VelocityWindow(string Rule, string Key, TimeSpan Length);

/// <summary>
/// Fixed windows of attempts, each starting at its first attempt. Every call counts the attempt
/// in each window it names and answers each window's count including it — attempts, not
/// successes, are what velocity rules limit.
/// </summary>
internal interface IVelocityCounters
{
    Task<long[]> CountAsync(IReadOnlyList<VelocityWindow> windows, CancellationToken cancellationToken);
}

/// <summary>
/// The embedded counters: one node's memory (a single-node deployment; several nodes use
/// <see cref="RedisVelocityCounters"/>). Each rule keeps at most <see cref="MaxWindowsPerRule"/>
/// live windows, ended ones swept every <see cref="SweepEvery"/>; a rule that is full counts a new
/// key's attempt as its first (it fails open, logged) rather than grow without bound when a
/// client invents device ids — and one rule filling up never evicts another's.
/// </summary>
internal sealed partial class InProcessVelocityCounters(TimeProvider clock, ILogger<InProcessVelocityCounters> logger) : IVelocityCounters
{
    public const int MaxWindowsPerRule = 100_000;
    public static readonly TimeSpan SweepEvery = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, Window>> _rules = new(StringComparer.Ordinal);
    private long _nextSweep;
    private int _warnedFull; // once per sweep, not once per attempt of a flood

    public Task<long[]> CountAsync(IReadOnlyList<VelocityWindow> windows, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcTicks;
        SweepIfDue(now);
        var counts = new long[windows.Count];
        for (var i = 0; i < windows.Count; i++)
        {
            counts[i] = Count(windows[i], now);
        }
        return Task.FromResult(counts);
    }

    private long Count(VelocityWindow window, long now)
    {
        var rule = _rules.GetOrAdd(window.Rule, static _ => new(StringComparer.Ordinal));
        while (true)
        {
            if (!rule.TryGetValue(window.Key, out var counter))
            {
                if (rule.Count >= MaxWindowsPerRule)
                {
                    if (Interlocked.Exchange(ref _warnedFull, 1) == 0)
                    {
                        LogRuleFull(logger, window.Rule, MaxWindowsPerRule);
                    }
                    return 1;
                }
                counter = rule.GetOrAdd(window.Key, static _ => new Window());
            }
            lock (counter)
            {
                if (counter.Removed)
                {
                    continue; // swept between the lookup and the lock: take the fresh one
                }
                if (counter.EndsAt <= now)
                {
                    counter.EndsAt = now + window.Length.Ticks;
                    counter.Count = 0;
                }
                return ++counter.Count;
            }
        }
    }

    private void SweepIfDue(long now)
    {
        var due = Interlocked.Read(ref _nextSweep);
        if (now < due || Interlocked.CompareExchange(ref _nextSweep, now + SweepEvery.Ticks, due) != due)
        {
            return;
        }
        Volatile.Write(ref _warnedFull, 0);
        foreach (var rule in _rules.Values)
        {
            foreach (var (key, counter) in rule)
            {
                lock (counter)
                {
                    if (counter.EndsAt > now)
                    {
                        continue;
                    }
                    counter.Removed = true;
                }
                rule.TryRemove(new KeyValuePair<string, Window>(key, counter));
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Velocity rule {Rule} tracks {Max} windows already: new ones are not counted until ended ones are swept")]
    private static partial void LogRuleFull(ILogger logger, string rule, int max);

    private sealed class Window
    {
        public long EndsAt;
        public long Count;
        public bool Removed;
    }
}
