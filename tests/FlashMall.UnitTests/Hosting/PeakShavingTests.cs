using FlashMall.Kernel.Hosting;

namespace FlashMall.UnitTests.Hosting;

/// <summary>
/// The writers behind a purchase's answer (journal drain, stream reader, order worker) yield to a
/// rush of this node's buyers, and write flat out when it ends or when their bounded backlog nears its bound.
/// </summary>
public sealed class PeakShavingTests
{
    private static readonly TimeSpan Batch = TimeSpan.FromMilliseconds(50);

    [Fact]
    public void With_no_purchase_admitted_during_the_batch_the_writer_does_not_rest()
    {
        var peak = new PeakShaving();
        peak.Admitted(3);
        var before = peak.Admissions;

        Assert.Equal(TimeSpan.Zero, peak.PauseAfter(Batch, before));
        Assert.Equal(TimeSpan.Zero, peak.PauseAfter(Batch, before, backlogFill: 0.5));
    }

    [Fact]
    public void During_a_rush_the_writer_takes_a_tenth_of_its_time()
    {
        var peak = new PeakShaving();
        var before = peak.Admissions;
        peak.Admitted(1);

        Assert.Equal(TimeSpan.FromMilliseconds(450), peak.PauseAfter(Batch, before));
        Assert.Equal(TimeSpan.FromMilliseconds(450), peak.PauseAfter(Batch, before, backlogFill: PeakShaving.EscalateFrom));
    }

    [Fact]
    public void A_filling_backlog_raises_the_share_to_all_of_the_time_at_nine_tenths()
    {
        Assert.Equal(PeakShaving.RushShare, PeakShaving.Share(rush: true, backlogFill: 0.3), 6);
        Assert.Equal(0.55, PeakShaving.Share(rush: true, backlogFill: 0.75), 6);
        Assert.Equal(1, PeakShaving.Share(rush: true, backlogFill: PeakShaving.FlatOutAt), 6);
        Assert.Equal(1, PeakShaving.Share(rush: true, backlogFill: 1.2), 6);

        var peak = new PeakShaving();
        var before = peak.Admissions;
        peak.Admitted(1);
        Assert.Equal(TimeSpan.Zero, peak.PauseAfter(Batch, before, backlogFill: 0.95));
    }

    [Fact]
    public void A_writer_holding_SQLites_write_lock_takes_at_most_half_of_its_time_rush_or_not()
    {
        var peak = new PeakShaving();
        var before = peak.Admissions;
        Assert.Equal(Batch, peak.PauseAfter(Batch, before, backlogFill: 0.95, maxShare: PeakShaving.SqliteWriterShare));

        peak.Admitted(1);
        Assert.Equal(TimeSpan.FromMilliseconds(450), peak.PauseAfter(Batch, before, backlogFill: 0.3, maxShare: PeakShaving.SqliteWriterShare));
        Assert.Equal(0.3, PeakShaving.Share(rush: true, backlogFill: 0.75, maxShare: PeakShaving.SqliteWriterShare), 6);
        Assert.Equal(Batch, peak.PauseAfter(Batch, before, backlogFill: 0.95, maxShare: PeakShaving.SqliteWriterShare));
    }

    [Fact]
    public void A_long_batch_rests_at_most_a_second_so_the_end_of_a_rush_is_seen_soon()
    {
        Assert.Equal(PeakShaving.MaxPause, PeakShaving.PauseFor(TimeSpan.FromSeconds(2), PeakShaving.RushShare));
        Assert.Equal(TimeSpan.FromMilliseconds(50), PeakShaving.PauseFor(TimeSpan.FromMilliseconds(50), 0.5));
    }

    [Fact]
    public async Task Admissions_from_many_threads_are_all_counted()
    {
        var peak = new PeakShaving();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                peak.Admitted(1);
            }
        })));
        Assert.Equal(80_000, peak.Admissions);
    }
}
