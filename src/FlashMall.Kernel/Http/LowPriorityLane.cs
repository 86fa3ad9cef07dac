using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace FlashMall.Kernel.Http;

/// <summary>
/// Threads at the lowest CPU priority (Linux <c>nice 19</c>) that run admitted non-core reads when
/// <see cref="LoadSheddingOptions.NonCoreLowPriorityThreads"/> is set: on a node that serves both
/// classes, a browsing flood then gets the CPU the core leaves over, instead of an equal share of
/// it. A request's code runs here until it ends, its awaits coming back to this scheduler (no
/// synchronization context; the current <see cref="TaskScheduler"/> is captured).
/// <para>
/// Only reads come here: a write holds locks (SQLite's one writer) that a starved thread would keep
/// from the core. The priority is the kernel's (per thread, no privilege needed to lower it); on
/// other systems the threads keep the normal priority and the lane only bounds the threads.
/// </para>
/// </summary>
internal sealed partial class LowPriorityLane : TaskScheduler, IDisposable
{
    /// <summary>The lowest priority: the scheduler gives such a thread about 1/70 of a core that a normal one wants.</summary>
    public const int Nice = 19;

    private readonly BlockingCollection<Task> _tasks = new();
    private readonly Thread[] _threads;

    public LowPriorityLane(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        _threads = new Thread[threads];
        for (var i = 0; i < threads; i++)
        {
            _threads[i] = new Thread(Run) { IsBackground = true, Name = "Non-core lane" };
            _threads[i].Start();
        }
    }

    public override int MaximumConcurrencyLevel => _threads.Length;

    /// <summary>Tasks waiting for a thread of the lane.</summary>
    public int Queued => _tasks.Count;

    private void Run()
    {
        if (OperatingSystem.IsLinux())
        {
            _ = SetPriority(PriorityProcess, GetThreadId(), Nice); // best effort: refused, the thread keeps its priority
        }
        foreach (var task in _tasks.GetConsumingEnumerable()) // ends when the lane is stopped and what it holds has run
        {
            TryExecuteTask(task);
        }
    }

    protected override void QueueTask(Task task) => _tasks.Add(task);

    /// <summary>Never inline: a task waited for from a normal thread still runs at the lane's priority.</summary>
    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => false;

    protected override IEnumerable<Task> GetScheduledTasks() => _tasks.ToArray();

    public void Dispose() => _tasks.CompleteAdding();

    private const int PriorityProcess = 0; // PRIO_PROCESS: on Linux, with a thread id, that one thread

    [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static partial int SetPriority(int which, int who, int priority);

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetThreadId();
}
