using FlashMall.Risk.Velocity;
using Microsoft.Extensions.Logging.Abstractions;

namespace FlashMall.UnitTests.Risk;

public sealed class InProcessVelocityCountersTests
{
    private sealed class ManualClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 11, 11, 20, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task Each_attempt_counts_in_every_window_it_names_and_a_window_starts_again_once_it_has_ended()
    {
        var clock = new ManualClock();
        var counters = new InProcessVelocityCounters(clock, NullLogger<InProcessVelocityCounters>.Instance);
        VelocityWindow[] attempt = [new("user", "u1", Minute), new("ip", "10.0.0.1", Minute)];

        Assert.Equal(new long[] { 1, 1 }, await counters.CountAsync(attempt, default));
        Assert.Equal(new long[] { 2, 2 }, await counters.CountAsync(attempt, default));
        Assert.Equal(new long[] { 1, 3 }, await counters.CountAsync([new("user", "u2", Minute), new("ip", "10.0.0.1", Minute)], default));

        clock.Now += TimeSpan.FromSeconds(59);
        Assert.Equal(new long[] { 3 }, await counters.CountAsync([attempt[0]], default));
        clock.Now += TimeSpan.FromSeconds(1);
        Assert.Equal(new long[] { 1 }, await counters.CountAsync([attempt[0]], default));
    }

    [Fact]
    public async Task Ended_windows_are_swept_and_counting_goes_on_afterwards()
    {
        var clock = new ManualClock();
        var counters = new InProcessVelocityCounters(clock, NullLogger<InProcessVelocityCounters>.Instance);
        for (var i = 0; i < 1_000; i++)
        {
            await counters.CountAsync([new("device", $"d{i}", Minute)], default);
        }

        clock.Now += InProcessVelocityCounters.SweepEvery + Minute;
        Assert.Equal(new long[] { 1 }, await counters.CountAsync([new("device", "d1", Minute)], default));
        Assert.Equal(new long[] { 2 }, await counters.CountAsync([new("device", "d1", Minute)], default));
    }
}
