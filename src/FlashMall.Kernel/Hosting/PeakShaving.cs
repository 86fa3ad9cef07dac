namespace FlashMall.Kernel.Hosting;

/// <summary>
/// Peak shaving for the writers behind a purchase's answer — the embedded ledger's journal drain,
/// the Redis ledger's stream reader, the order worker. A purchase is durable once it is answered
/// (in the journal, in the stream), so the rows and the order it leads to can wait: while this
/// node keeps admitting purchases (a rush), each of those writers takes <see cref="RushShare"/> of
/// its time after each batch and leaves the cores to the buyers; as soon as a batch passes with no
/// purchase admitted, it takes its most (its <c>maxShare</c>) and catches up. A writer that holds
/// SQLite's one write lock for a whole batch gives <see cref="SqliteWriterShare"/> as its most, so
/// that the requests' own writes (a checkout, a payment), which wait in SQLite's busy handler and
/// not in turn with it, find the lock free half of the time. A writer whose backlog is bounded in
/// memory (the journal's) gives its fill of that bound, and takes a growing share from
/// <see cref="EscalateFrom"/> up to its most at <see cref="FlatOutAt"/>, so the bound refuses
/// buyers only when even that cannot keep up.
/// <para>
/// One per node: a rush is this node's own buyers, so a worker node that does not sell never
/// slows down for another node's sale.
/// </para>
/// </summary>
public sealed class PeakShaving
{
    /// <summary>A writer's share of its time during a rush while its backlog is under <see cref="EscalateFrom"/> of its bound.</summary>
    public const double RushShare = 0.1;

    /// <summary>The fill of a writer's bounded backlog from which its share rises during a rush.</summary>
    public const double EscalateFrom = 0.6;

    /// <summary>The fill of a writer's bounded backlog at which it takes its most even during a rush.</summary>
    public const double FlatOutAt = 0.9;

    /// <summary>
    /// The most a writer that holds SQLite's one write lock for a batch at a time takes (it rests
    /// as long as each batch took): the lock is free for other writers half of the time.
    /// </summary>
    public const double SqliteWriterShare = 0.5;

    /// <summary>The longest rest after a batch: a rush that ends during it is noticed within this.</summary>
    public static readonly TimeSpan MaxPause = TimeSpan.FromSeconds(1);

    private long _admitted;

    /// <summary>Purchases this node has admitted since it started (a reading to compare with a later one).</summary>
    public long Admissions => Volatile.Read(ref _admitted);

    /// <summary>The ledger admitted <paramref name="count"/> purchases (once each is durable).</summary>
    public void Admitted(int count) => Interlocked.Add(ref _admitted, count);

    /// <summary>
    /// How long a writer rests after a batch that took <paramref name="took"/> and began at the
    /// reading <paramref name="admissionsBefore"/> of <see cref="Admissions"/>: enough to keep to
    /// <see cref="Share"/> (nothing for a writer whose most is all of its time, when no purchase
    /// was admitted meanwhile).
    /// </summary>
    public TimeSpan PauseAfter(TimeSpan took, long admissionsBefore, double backlogFill = 0, double maxShare = 1) =>
        PauseFor(took, Share(Admissions != admissionsBefore, backlogFill, maxShare));

    /// <summary>
    /// A writer's share of its time: its most (<paramref name="maxShare"/>) when no purchase
    /// arrives, else <see cref="RushShare"/> until its backlog fills <see cref="EscalateFrom"/> of
    /// its bound, rising linearly to its most at <see cref="FlatOutAt"/>.
    /// </summary>
    public static double Share(bool rush, double backlogFill = 0, double maxShare = 1) =>
        !rush ? maxShare
            : Math.Clamp(RushShare + (maxShare - RushShare) * (backlogFill - EscalateFrom) / (FlatOutAt - EscalateFrom), RushShare, maxShare);

    /// <summary>The rest after work that took <paramref name="took"/> that keeps the writer to <paramref name="share"/> of its time (at most <see cref="MaxPause"/>).</summary>
    public static TimeSpan PauseFor(TimeSpan took, double share) =>
        share >= 1 ? TimeSpan.Zero : TimeSpan.FromTicks(Math.Min(MaxPause.Ticks, (long)(took.Ticks * (1 / share - 1))));
}
