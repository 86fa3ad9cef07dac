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
    /// back to that thread (the current <see cref="TaskScheduler"/> is captured; an await with
    /// <c>ConfigureAwait(false)</c> — inside a library, on real I/O — resumes on the pool as usual).
    /// For work that runs now and then and may block for a long while in between — a scheduled job's
    /// SQLite query over a million rows — so it never holds a thread-pool thread, and the requests
    /// queued behind it, meanwhile.
    /// </summary>
    public static Task<T> RunAsync<T>(string name, Func<Task<T>> work)
    {
        var scheduler = new OneThreadScheduler();
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            _isCurrent = true;
            var task = Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.DenyChildAttach, scheduler).Unwrap();
            task.ContinueWith(_ => scheduler.Finish(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            scheduler.Pump();
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

    /// <summary>Runs what is queued to it on the one thread that pumps it; once finished, on the pool (a late continuation).</summary>
    private sealed class OneThreadScheduler : TaskScheduler
    {
        private readonly Queue<Task> _tasks = new();
        private bool _finished;
        private Thread? _thread;

        public override int MaximumConcurrencyLevel => 1;

        /// <summary>Runs queued tasks until <see cref="Finish"/> has been called and none is left.</summary>
        public void Pump()
        {
            _thread = Thread.CurrentThread;
            while (true)
            {
                Task next;
                lock (_tasks)
                {
                    while (_tasks.Count == 0 && !_finished)
                    {
                        Monitor.Wait(_tasks);
                    }
                    if (_tasks.Count == 0)
                    {
                        return;
                    }
                    next = _tasks.Dequeue();
                }
                TryExecuteTask(next);
            }
        }

        public void Finish()
        {
            lock (_tasks)
            {
                _finished = true;
                Monitor.PulseAll(_tasks);
            }
        }

        protected override void QueueTask(Task task)
        {
            lock (_tasks)
            {
                if (!_finished)
                {
                    _tasks.Enqueue(task);
                    Monitor.Pulse(_tasks);
                    return;
                }
            }
            ThreadPool.UnsafeQueueUserWorkItem(t => TryExecuteTask(t), task, preferLocal: false);
        }

        protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => Thread.CurrentThread == _thread && TryExecuteTask(task);

        protected override IEnumerable<Task> GetScheduledTasks()
        {
            lock (_tasks)
            {
                return _tasks.ToArray();
            }
        }
    }
}
