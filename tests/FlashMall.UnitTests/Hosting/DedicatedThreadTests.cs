using FlashMall.Kernel.Hosting;

namespace FlashMall.UnitTests.Hosting;

/// <summary>
/// Work run with <see cref="DedicatedThread.RunAsync{T}"/> (a scheduled job's run) stays on its own
/// thread across awaits that really yield, so its synchronous stretches never hold a thread-pool thread.
/// </summary>
public sealed class DedicatedThreadTests
{
    [Fact]
    public async Task Awaits_come_back_to_the_works_own_thread_never_to_the_pool()
    {
        var seen = await DedicatedThread.RunAsync("test work", async () =>
        {
            var threads = new List<(int Id, bool Pool, bool Dedicated)> { Here() };
            await Task.Yield();
            threads.Add(Here());
            await Task.Delay(20);
            threads.Add(Here());
            using var gate = new SemaphoreSlim(0, 1);
            var waiting = gate.WaitAsync();
            _ = Task.Run(async () => { await Task.Delay(20); gate.Release(); });
            await waiting; // released from a pool thread
            threads.Add(Here());
            return threads;
        });
        Assert.Equal(4, seen.Count);
        Assert.Single(seen.Select(s => s.Id).Distinct());
        Assert.All(seen, s => Assert.False(s.Pool));
        Assert.All(seen, s => Assert.True(s.Dedicated));
        Assert.NotEqual(Environment.CurrentManagedThreadId, seen[0].Id);

        static (int, bool, bool) Here() => (Environment.CurrentManagedThreadId, Thread.CurrentThread.IsThreadPoolThread, DedicatedThread.IsCurrent);
    }

    /// <summary>
    /// Only awaits come back to the work's thread: a task it (or a library inside it) starts runs on
    /// the pool. On the work's thread, a loop started that way would hold it for good, and the work's
    /// own awaits would wait behind it.
    /// </summary>
    [Fact]
    public async Task Tasks_the_work_starts_run_on_the_pool_not_on_its_thread()
    {
        var (started, continued, workThread) = await DedicatedThread.RunAsync("test started", async () =>
        {
            var here = Environment.CurrentManagedThreadId;
            var started = await Task.Factory.StartNew(() => (Environment.CurrentManagedThreadId, Thread.CurrentThread.IsThreadPoolThread));
            var continued = await Task.Delay(10).ContinueWith(_ => (Environment.CurrentManagedThreadId, Thread.CurrentThread.IsThreadPoolThread));
            return (started, continued, here);
        });
        Assert.True(started.IsThreadPoolThread);
        Assert.NotEqual(workThread, started.CurrentManagedThreadId);
        Assert.True(continued.IsThreadPoolThread);
        Assert.NotEqual(workThread, continued.CurrentManagedThreadId);
    }

    [Fact]
    public async Task A_failure_reaches_the_caller_and_the_thread_ends()
    {
        Thread? thread = null;
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => DedicatedThread.RunAsync<int>("test failure", async () =>
        {
            thread = Thread.CurrentThread;
            await Task.Yield();
            throw new InvalidOperationException("the job failed");
        }));
        Assert.Equal("the job failed", failure.Message);
        Assert.True(thread!.Join(TimeSpan.FromSeconds(5)), "the work's thread did not end");
    }

    [Fact]
    public async Task A_cancelled_run_is_cancelled_for_the_caller()
    {
        using var cancel = new CancellationTokenSource();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => DedicatedThread.RunAsync("test cancel", async () =>
        {
            await Task.Delay(Timeout.Infinite, cancel.Token);
            return 0;
        }));
    }

    /// <summary>Something the work started and left running still runs after the work's thread has ended.</summary>
    [Fact]
    public async Task A_continuation_left_behind_still_runs_after_the_thread_ends()
    {
        var later = new TaskCompletionSource();
        var ran = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        await DedicatedThread.RunAsync("test leftover", () =>
        {
            _ = Continue();
            return Task.FromResult(0);

            async Task Continue()
            {
                await later.Task;
                ran.TrySetResult(Thread.CurrentThread.IsThreadPoolThread);
            }
        });
        later.SetResult();
        Assert.True(await ran.Task.WaitAsync(TimeSpan.FromSeconds(5)));
    }
}
