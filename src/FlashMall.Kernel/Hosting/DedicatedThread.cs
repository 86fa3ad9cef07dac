namespace FlashMall.Kernel.Hosting;

/// <summary>
/// Runs a background loop on a thread of its own. For loops that block — SQLite's calls are
/// synchronous even when awaited — a thread-pool thread held for tens of milliseconds per batch
/// holds back the requests queued behind it on a small machine; the pool only adds threads
/// slowly. The loop waits synchronously (<c>.GetAwaiter().GetResult()</c>); an await inside it that
/// really yields would still resume on the pool and finish the work there, so what such a loop
/// awaits must not yield on its thread: <see cref="Persistence.SqliteWriteGate"/>, the one wait
/// on these paths, blocks instead when <see cref="IsCurrent"/>.
/// </summary>
public static class DedicatedThread
{
    [ThreadStatic]
    private static bool _isCurrent;

    /// <summary>True on a thread started here: one that may block while it waits.</summary>
    public static bool IsCurrent => _isCurrent;

    /// <summary>Starts <paramref name="loop"/>; the task completes when it returns (or faults when it throws).</summary>
    public static Task Start(string name, Action<CancellationToken> loop, CancellationToken stoppingToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            _isCurrent = true;
            try
            {
                loop(stoppingToken);
                done.TrySetResult();
            }
            catch (Exception ex)
            {
                done.TrySetException(ex);
            }
        })
        { IsBackground = true, Name = name };
        thread.Start();
        return done.Task;
    }

    /// <summary>
    /// Runs <paramref name="work"/> on a new thread of its own until it completes, its awaits coming
    /// back to that thread (a synchronization context of the thread's own is captured; an await with
    /// <c>ConfigureAwait(false)</c> — inside a library, on real I/O — resumes on the pool as usual).
    /// For work that runs now and then and may block for a long while in between — a scheduled job's
    /// SQLite query over a million rows — so it never holds a thread-pool thread, and the requests
    /// queued behind it, meanwhile. Only awaits come back: tasks the work or a library starts
    /// (<c>Task.Factory.StartNew</c>, <c>ContinueWith</c>, a loop a lazily built client starts) run on
    /// the pool as anywhere else, never taking, or waiting for, the work's thread.
    /// </summary>
    public static Task<T> RunAsync<T>(string name, Func<Task<T>> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            _isCurrent = true;
            var context = new OneThreadContext();
            SynchronizationContext.SetSynchronizationContext(context);
            Task<T> task;
            try
            {
                task = work();
            }
            catch (Exception ex)
            {
                task = Task.FromException<T>(ex);
            }
            task.ContinueWith(_ => context.Finish(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            context.Pump();
            SynchronizationContext.SetSynchronizationContext(null);
            if (task.IsCompletedSuccessfully)
            {
                done.TrySetResult(task.Result);
            }
            else if (task.IsCanceled)
            {
                done.TrySetCanceled();
            }
            else
            {
                done.TrySetException(task.Exception!.InnerExceptions);
            }
        })
        { IsBackground = true, Name = name };
        thread.Start();
        return done.Task;
    }

    /// <summary>Runs what is posted to it on the one thread that pumps it; once finished, on the pool (a late continuation).</summary>
    private sealed class OneThreadContext : SynchronizationContext
    {
        private readonly Queue<(SendOrPostCallback Callback, object? State)> _posted = new();
        private bool _finished;

        /// <summary>Runs posted callbacks until <see cref="Finish"/> has been called and none is left.</summary>
        public void Pump()
        {
            while (true)
            {
                (SendOrPostCallback Callback, object? State) next;
                lock (_posted)
                {
                    while (_posted.Count == 0 && !_finished)
                    {
                        Monitor.Wait(_posted);
                    }
                    if (_posted.Count == 0)
                    {
                        return;
                    }
                    next = _posted.Dequeue();
                }
                next.Callback(next.State);
            }
        }

        public void Finish()
        {
            lock (_posted)
            {
                _finished = true;
                Monitor.PulseAll(_posted);
            }
        }

        public override void Post(SendOrPostCallback d, object? state)
        {
            lock (_posted)
            {
                if (!_finished)
                {
                    _posted.Enqueue((d, state));
                    Monitor.Pulse(_posted);
                    return;
                }
            }
            ThreadPool.UnsafeQueueUserWorkItem(static posted => posted.Callback(posted.State), (Callback: d, State: state), preferLocal: false);
        }

        public override SynchronizationContext CreateCopy() => this;
    }
}
