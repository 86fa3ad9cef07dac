using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.IO.Hashing;
using System.Text;
using System.Threading.Channels;
using FlashMall.Kernel.Hosting;
using FlashMall.Kernel.Persistence;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlashMall.FlashSales.Ledger.Journal;

/// <summary>
/// The embedded ledger's write-ahead log: append-only segment files of admitted reservations
/// under <c>{Data:Directory}/ledger/</c> (<c>FlashSales:JournalDirectory</c>). A purchase is answered once its record is on disk; the
/// database rows are written behind by <see cref="JournalDrain"/>, in large batches, as the Redis
/// ledger's stream is. Group commit: one thread appends whatever arrived while the previous write
/// was on its way to the disk, in one <c>write</c> on a file opened with <c>O_SYNC</c>, so a burst
/// of buyers costs a few disk flushes, not one each.
/// <para>
/// Each record is <c>[u32 length][u32 CRC-32 of the payload][payload]</c>; a torn or corrupt tail
/// (a crash during a write nobody was answered for) ends the log. Recovery
/// (<see cref="RecoverAsync"/>) writes every record to the database before the node takes
/// requests — written ones are found by id and skipped — and deletes the segments. While the
/// node runs, a new segment is started past <c>FlashSales:JournalSegmentBytes</c> (4 MB; each is
/// zero-filled ahead, so a record overwrites allocated blocks, and recovery reads trailing zeros as
/// the unused end), and a segment whose every
/// record is in the database is deleted, so the disk used and what a recovery reads are bounded
/// by the backlog, however long the traffic lasts. <c>journal.lock</c>, held exclusively for the
/// process's life, keeps a second selling node off the folder.
/// </para>
/// <para>
/// Records appended and not yet in the database are kept in memory: they count as the sale's units
/// in flight, a buyer polling the reservation sees it reserved, and a ledger that rebuilds a sale's
/// counters adds them to what the database holds.
/// </para>
/// </summary>
internal sealed partial class ReservationJournal : IDisposable
{
    public const string LockFileName = "journal.lock";
    private const string SegmentPrefix = "reservations-";
    private const string SegmentSuffix = ".journal";
    /// <summary>The next segment while it is being zero-filled, before it takes its number.</summary>
    private const string PreparedFileName = "next-segment.zeroed";
    private const int HeaderBytes = 8;
    private const byte Version = 1;
    private const int MaxPayloadBytes = 1 + 16 * 3 + 4 + 4 + 8 + 1 + byte.MaxValue;
    private const int MaxGroup = 4096;


    private readonly bool _sells;
    private readonly ReservationWriter _writer;
    private readonly PeakShaving _peak;
    private readonly ILogger<ReservationJournal> _logger;
    private readonly Lock _recovering = new();
    private Task? _recovery;
    private readonly Channel<Append> _appends = Channel.CreateUnbounded<Append>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentQueue<PendingReservation> _undrained = new();
    /// <summary>
    /// Records on disk and not in the database, with their segment. Guarded by locking it (with
    /// <see cref="_undrainedBySegment"/> and <see cref="_segment"/>): one add per appended group,
    /// one remove per drained batch (no node object per record for the GC to trace).
    /// </summary>
    private readonly Dictionary<Guid, (PendingReservation Reservation, long Segment)> _pendingById = [];
    private readonly Dictionary<long, int> _undrainedBySegment = [];
    private long _segment;
    private readonly long _segmentBytes;
    private FileStream? _lock;
    private readonly ConcurrentDictionary<Guid, StrongBox> _inFlightBySale = new();
    private readonly SemaphoreSlim _drainSignal = new(0);
    private FileStream? _file;
    /// <summary>The next segment being zero-filled in the background while the current one fills (null while none is).</summary>
    private Task? _prepared;
    private Thread? _appender;
    private int _backlog;
    private volatile Exception? _broken;

    /// <remarks>
    /// <paramref name="sells"/>: whether this node takes purchases (role <c>all</c> or <c>core</c>).
    /// A node that does not never opens the journal: it reads the database only, and does not
    /// contend for the file with the node that sells.
    /// </remarks>
    public ReservationJournal(
        bool sells, IOptions<DataOptions> data, IOptions<FlashSalesOptions> options, ReservationWriter writer, PeakShaving peak, IMeterFactory meters,
        ILogger<ReservationJournal> logger)
    {
        _sells = sells;
        _peak = peak;
        _segmentBytes = options.Value.JournalSegmentBytes;
        _writer = writer;
        _logger = logger;
        Folder = options.Value.JournalDirectory is { Length: > 0 } folder ? Path.GetFullPath(folder) : Path.Combine(data.Value.FullPath, "ledger");
        meters.Create(SaleReconciler.MeterName).CreateObservableGauge("flashmall.flash_sales.journal.backlog", () => Backlog,
            unit: "{reservation}", description: "Reservations answered (on disk in the embedded ledger's journal) and not yet written to the database.");
    }

    public string Folder { get; }

    /// <summary>Records on disk, not yet in the database.</summary>
    public int Backlog => Volatile.Read(ref _backlog);

    /// <summary>Units taken for reservations of the sale that the database does not hold yet (being appended, or waiting to be drained).</summary>
    public int InFlight(Guid saleId) => _inFlightBySale.TryGetValue(saleId, out var units) ? Volatile.Read(ref units.Value) : 0;

    /// <summary>Whether this reservation of this buyer is on disk and not yet in the database.</summary>
    public bool IsPending(Guid reservationId, Guid userId)
    {
        lock (_pendingById)
        {
            return _pendingById.TryGetValue(reservationId, out var pending) && pending.Reservation.UserId == userId;
        }
    }

    /// <summary>The sale's reservations on disk and not yet in the database (for a ledger rebuilding its counters).</summary>
    public List<PendingReservation> PendingOf(Guid saleId)
    {
        lock (_pendingById)
        {
            return [.. _pendingById.Values.Select(p => p.Reservation).Where(p => p.SaleId == saleId)];
        }
    }

    /// <summary>
    /// Recovery, once per process and before anything is appended or any sale's counters are
    /// built: writes every record the file holds to the database (those already written are found
    /// by id; refusals are recorded as released), deletes the segments and starts a new one. A
    /// failed recovery (the database away) is tried again by the next caller.
    /// </summary>
    public Task RecoverAsync()
    {
        lock (_recovering)
        {
            if (_recovery is null || _recovery.IsFaulted || _recovery.IsCanceled)
            {
                _recovery = _sells ? Task.Run(RecoverOnceAsync) : Task.CompletedTask;
            }
            return _recovery;
        }
    }

    private async Task RecoverOnceAsync()
    {
        _lock ??= LockFolder();
        File.Delete(PreparedPath); // a next segment a stopped node had not begun: zeros only
        var segments = Segments();
        var records = new List<PendingReservation>();
        foreach (var (_, path) in segments)
        {
            records.AddRange(ReadSegment(path));
        }
        var written = 0;
        foreach (var chunk in records.Chunk(1000))
        {
            var results = await _writer.WriteNowAsync(chunk);
            written += results.Count(r => r == WriteResult.Written);
        }
        if (records.Count > 0)
        {
            LogRecovered(_logger, records.Count, written);
        }
        foreach (var (_, path) in segments)
        {
            File.Delete(path); // every record is in the database now
        }
        _segment = segments.Count > 0 ? segments[^1].Number + 1 : 1;
        CreateZeroed();
        _file = OpenSegment(_segment);
        _prepared = PrepareNext();
        _appender = new Thread(AppendLoop) { IsBackground = true, Name = "Reservation journal" };
        _appender.Start();
    }

    /// <summary>The folder's segments, oldest first.</summary>
    private List<(long Number, string Path)> Segments() =>
        [.. Directory.EnumerateFiles(Folder, SegmentPrefix + "*" + SegmentSuffix)
            .Select(path => (Name: Path.GetFileName(path), Path: path))
            .Select(f => (Ok: long.TryParse(f.Name.AsSpan(SegmentPrefix.Length, f.Name.Length - SegmentPrefix.Length - SegmentSuffix.Length), out var n), Number: n, f.Path))
            .Where(f => f.Ok)
            .Select(f => (f.Number, f.Path))
            .OrderBy(f => f.Number)];

    private string SegmentPath(long number) => Path.Combine(Folder, $"{SegmentPrefix}{number:D12}{SegmentSuffix}");

    private string PreparedPath => Path.Combine(Folder, PreparedFileName);

    /// <summary>Every whole record in a segment; a torn or corrupt tail is where it ends.</summary>
    private List<PendingReservation> ReadSegment(string path)
    {
        var records = new List<PendingReservation>();
        var bytes = File.ReadAllBytes(path);
        var offset = 0;
        while (offset + HeaderBytes <= bytes.Length)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(offset));
            if (length <= 0 || length > MaxPayloadBytes || offset + HeaderBytes + length > bytes.Length)
            {
                break;
            }
            var payload = bytes.AsSpan(offset + HeaderBytes, length);
            if (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset + 4)) != Crc32.HashToUInt32(payload) || Decode(payload) is not { } record)
            {
                break;
            }
            records.Add(record);
            offset += HeaderBytes + length;
        }
        // A segment is zero-filled when made: zeros after the last record are its unused end.
        if (offset < bytes.Length && bytes.AsSpan(offset).ContainsAnyExcept((byte)0))
        {
            LogTornTail(_logger, Path.GetFileName(path), bytes.Length - offset, records.Count);
        }
        return records;
    }

    /// <summary>
    /// Holds the folder's lock file exclusively for the process's life: a second selling node on
    /// the same folder fails to start (with what to do) instead of sharing the journal.
    /// </summary>
    private FileStream LockFolder()
    {
        Directory.CreateDirectory(Folder);
        var path = Path.Combine(Folder, LockFileName);
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new InvalidOperationException(
                $"The embedded ledger's journal {Folder} is held by another process. The embedded ledger sells on one node: give each " +
                "node that sells its own FlashSales:JournalDirectory (and its own database), or sell through the Redis ledger (ConnectionStrings:Redis).", ex);
        }
    }

    /// <summary>
    /// The next segment, made ahead on a thread of its own (<see cref="CreateZeroed"/>): the
    /// appender never waits for it unless a segment fills faster than the next one is zeroed.
    /// </summary>
    private Task PrepareNext() =>
        Task.Factory.StartNew(CreateZeroed, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>
    /// Writes the next segment's file, <see cref="PreparedFileName"/>, its whole size in zeros,
    /// <c>O_SYNC</c> (so on disk, with its size, before it is used). A record is then written over
    /// blocks the file already has: the disk flush carries the data alone, not also the file
    /// system's journal of a file that grew, which makes a write about three times cheaper
    /// (docs/BENCHMARKS.md). Recovery reads zeros after the last record as the segment's unused end.
    /// </summary>
    private void CreateZeroed()
    {
        using var file = OpenSynchronous(PreparedPath, FileMode.Create);
        var zeros = new byte[(int)Math.Min(_segmentBytes, 1 << 20)];
        for (var left = _segmentBytes; left > 0; left -= zeros.Length)
        {
            file.Write(zeros, 0, (int)Math.Min(zeros.Length, left));
        }
    }

    /// <summary>
    /// Gives the zero-filled file its segment's name (closed, so any file system allows the rename)
    /// and opens it <c>O_SYNC</c>: a write returns once it is on disk. The folder is flushed first,
    /// so the name survives a power cut before any record is written to it.
    /// </summary>
    private FileStream OpenSegment(long number)
    {
        File.Move(PreparedPath, SegmentPath(number));
        DirectorySync.Flush(Folder);
        return OpenSynchronous(SegmentPath(number), FileMode.Open);
    }

    /// <summary>Opened for this process alone, unbuffered and <c>O_SYNC</c>: a write returns once it is on disk.</summary>
    private static FileStream OpenSynchronous(string path, FileMode mode) => new(path, new FileStreamOptions
    {
        Mode = mode,
        Access = FileAccess.Write,
        Share = FileShare.None,
        BufferSize = 0,
        Options = FileOptions.WriteThrough,
    });

    /// <summary>Completes once the reservation is on disk; it then waits in memory for <see cref="TakeForDrain"/>.</summary>
    public Task AppendAsync(PendingReservation reservation)
    {
        if (!_sells)
        {
            return Task.FromException(new InvalidOperationException("This node's role does not sell: it has no journal."));
        }
        if (_broken is { } broken)
        {
            return Task.FromException(new ReservationStateUnknownException(broken));
        }
        var append = new Append(reservation);
        _inFlightBySale.GetOrAdd(reservation.SaleId, _ => new StrongBox()).Add(reservation.Quantity);
        if (!_appends.Writer.TryWrite(append))
        {
            _inFlightBySale[reservation.SaleId].Add(-reservation.Quantity);
            return Task.FromException(new InvalidOperationException("The reservation journal is closed."));
        }
        return append.Durable.Task;
    }

    /// <summary>Waits until there is something to drain (or <paramref name="cancellationToken"/> fires).</summary>
    public Task WaitForWorkAsync(CancellationToken cancellationToken) => _drainSignal.WaitAsync(cancellationToken);

    /// <summary>Up to <paramref name="max"/> records, oldest first, still pending until <see cref="Drained"/> is called for them.</summary>
    public List<PendingReservation> TakeForDrain(int max)
    {
        var batch = new List<PendingReservation>(Math.Min(max, _undrained.Count));
        while (batch.Count < max && _undrained.TryPeek(out var next))
        {
            batch.Add(next);
            _undrained.TryDequeue(out _);
        }
        return batch;
    }

    /// <summary>The database holds these now (or refused them for good): they leave the journal's memory.</summary>
    public void Drained(List<PendingReservation> batch)
    {
        lock (_pendingById)
        {
            foreach (var pending in batch)
            {
                if (!_pendingById.Remove(pending.Id, out var entry))
                {
                    continue;
                }
                if (_inFlightBySale.TryGetValue(pending.SaleId, out var units))
                {
                    units.Add(-pending.Quantity);
                }
                if ((_undrainedBySegment[entry.Segment] -= 1) == 0 && entry.Segment != _segment)
                {
                    DeleteSegment(entry.Segment);
                }
            }
            Volatile.Write(ref _backlog, _pendingById.Count);
        }
    }

    /// <summary>Called holding the lock: every record of a closed segment is in the database.</summary>
    private void DeleteSegment(long number)
    {
        _undrainedBySegment.Remove(number);
        try
        {
            File.Delete(SegmentPath(number));
        }
        catch (IOException ex)
        {
            LogDeleteFailed(_logger, ex, number); // a later recovery replays it: written records are skipped
        }
    }

    private void AppendLoop()
    {
        var group = new List<Append>(MaxGroup);
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        var reader = _appends.Reader;
        while (true)
        {
            if (!reader.TryPeek(out _))
            {
                if (!reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
                {
                    return;
                }
            }
            while (group.Count < MaxGroup && reader.TryRead(out var next))
            {
                group.Add(next);
            }
            if (_broken is { } broken)
            {
                Fail(group, new ReservationStateUnknownException(broken));
                group.Clear();
                continue;
            }
            buffer.ResetWrittenCount();
            foreach (var append in group)
            {
                Encode(append.Reservation, buffer);
            }
            FileStream file;
            long start;
            try
            {
                file = NextSegmentIfFull();
            }
            catch (Exception ex)
            {
                // No new segment (disk full?): nothing was written; the next group tries again.
                LogAppendFailed(_logger, ex, group.Count);
                Fail(group, new IOException("The reservation journal could not start a new segment.", ex));
                group.Clear();
                continue;
            }
            start = file.Position;
            try
            {
                file.Write(buffer.WrittenSpan);
            }
            catch (Exception ex)
            {
                // Not written (or partly, which recovery would cut off as a torn tail): cut back to
                // where it started so later records do not land after a torn one.
                try
                {
                    file.SetLength(start);
                    file.Position = start;
                    file.Flush(flushToDisk: true);
                    LogAppendFailed(_logger, ex, group.Count);
                    Fail(group, new IOException("The reservation journal could not be written.", ex));
                }
                catch (Exception truncateFailed)
                {
                    _broken = truncateFailed;
                    LogJournalBroken(_logger, truncateFailed);
                    Fail(group, new ReservationStateUnknownException(ex));
                }
                group.Clear();
                continue;
            }
            lock (_pendingById)
            {
                foreach (var append in group)
                {
                    _pendingById[append.Reservation.Id] = (append.Reservation, _segment);
                }
                _undrainedBySegment[_segment] = _undrainedBySegment.GetValueOrDefault(_segment) + group.Count;
                Volatile.Write(ref _backlog, _pendingById.Count);
            }
            foreach (var append in group)
            {
                _undrained.Enqueue(append.Reservation);
            }
            _peak.Admitted(group.Count);
            foreach (var append in group)
            {
                append.Durable.TrySetResult();
            }
            group.Clear();
            _drainSignal.Release();
        }
    }

    /// <summary>
    /// The segment to append to: past <c>FlashSales:JournalSegmentBytes</c> (a group may take it a little over), the next one (created and its
    /// name made durable first); the closed one is deleted now if all its records are drained.
    /// </summary>
    private FileStream NextSegmentIfFull()
    {
        var current = _file!;
        if (current.Position < _segmentBytes)
        {
            return current;
        }
        var prepared = _prepared;
        _prepared = null; // made again below, or (after a failure) here by the next group's call
        if (prepared is null)
        {
            CreateZeroed();
        }
        else
        {
            prepared.GetAwaiter().GetResult();
        }
        var next = OpenSegment(_segment + 1);
        lock (_pendingById)
        {
            var closed = _segment;
            _segment = closed + 1;
            _file = next;
            if (_undrainedBySegment.GetValueOrDefault(closed) == 0)
            {
                DeleteSegment(closed);
            }
        }
        current.Dispose();
        _prepared = PrepareNext();
        return next;
    }

    private void Fail(List<Append> group, Exception failure)
    {
        foreach (var append in group)
        {
            if (_inFlightBySale.TryGetValue(append.Reservation.SaleId, out var units))
            {
                units.Add(-append.Reservation.Quantity);
            }
            append.Durable.TrySetException(failure);
        }
    }

    private static void Encode(PendingReservation reservation, ArrayBufferWriter<byte> buffer)
    {
        var traceParent = reservation.TraceParent is { Length: > 0 and <= byte.MaxValue } tp ? tp : "";
        var length = 1 + 16 * 3 + 4 + 4 + 8 + 1 + Encoding.ASCII.GetByteCount(traceParent);
        var span = buffer.GetSpan(HeaderBytes + length);
        var payload = span.Slice(HeaderBytes, length);
        payload[0] = Version;
        reservation.Id.TryWriteBytes(payload[1..]);
        reservation.SaleId.TryWriteBytes(payload[17..]);
        reservation.UserId.TryWriteBytes(payload[33..]);
        BinaryPrimitives.WriteInt32LittleEndian(payload[49..], reservation.Quantity);
        BinaryPrimitives.WriteInt32LittleEndian(payload[53..], reservation.PerUserLimit);
        BinaryPrimitives.WriteInt64LittleEndian(payload[57..], (reservation.AdmittedAt ?? DateTimeOffset.UtcNow).ToUnixTimeMilliseconds());
        payload[65] = (byte)traceParent.Length;
        Encoding.ASCII.GetBytes(traceParent, payload[66..]);
        BinaryPrimitives.WriteInt32LittleEndian(span, length);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], Crc32.HashToUInt32(payload));
        buffer.Advance(HeaderBytes + length);
    }

    private static PendingReservation? Decode(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 66 || payload[0] != Version || payload.Length != 66 + payload[65])
        {
            return null;
        }
        var quantity = BinaryPrimitives.ReadInt32LittleEndian(payload[49..]);
        var limit = BinaryPrimitives.ReadInt32LittleEndian(payload[53..]);
        if (quantity <= 0 || limit <= 0)
        {
            return null;
        }
        return new PendingReservation(
            new Guid(payload.Slice(1, 16)), new Guid(payload.Slice(17, 16)), new Guid(payload.Slice(33, 16)), quantity, limit,
            AdmittedAt: DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64LittleEndian(payload[57..])),
            RecordRefusal: true,
            TraceParent: payload[65] > 0 ? Encoding.ASCII.GetString(payload.Slice(66, payload[65])) : null);
    }

    public void Dispose()
    {
        _appends.Writer.TryComplete();
        _appender?.Join(TimeSpan.FromSeconds(5));
        _file?.Dispose();
        try
        {
            _prepared?.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // It was never used; the next recovery deletes whatever it left.
        }
        _lock?.Dispose();
        _drainSignal.Dispose();
    }

    private sealed class Append(PendingReservation reservation)
    {
        public PendingReservation Reservation { get; } = reservation;

        public TaskCompletionSource Durable { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class StrongBox
    {
        public int Value;

        public void Add(int units) => Interlocked.Add(ref Value, units);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Recovered {Records} reservations from the journal; {Written} of them were not yet in the database")]
    private static partial void LogRecovered(ILogger logger, int records, int written);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Journal segment {Segment} ends in {Bytes} bytes that are not a whole record (a write cut off by a crash, never answered); {Records} records before them are recovered")]
    private static partial void LogTornTail(ILogger logger, string segment, int bytes, int records);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Journal segment {Segment} is fully written to the database but could not be deleted; the next recovery reads it again")]
    private static partial void LogDeleteFailed(ILogger logger, Exception exception, long segment);

    [LoggerMessage(Level = LogLevel.Error, Message = "Appending {Count} reservations to the journal failed; nothing of them was kept and their buyers were told to retry")]
    private static partial void LogAppendFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Critical, Message = "The reservation journal could not be cut back after a failed write; the embedded ledger refuses purchases until the node is restarted")]
    private static partial void LogJournalBroken(ILogger logger, Exception exception);
}
