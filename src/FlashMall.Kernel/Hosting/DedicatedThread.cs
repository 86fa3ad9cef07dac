namespace FlashMall.Kernel.Hosting;

/// <summary>
/// Runs a background loop on a thread of its own. For loops that block — SQLite's calls are
/// synchronous even when awaited — a thread-pool thread held for tens of milliseconds per batch
/// holds back the requests queued behind it on a small machine; the pool only adds threads
/// slowly. The loop waits synchronously (<c>.GetAwaiter().GetResult()</c>), so it stays on its thread.
/// </summary>
public static class DedicatedThread
{
    /// <summary>Starts <paramref name="loop"/>; the task completes when it returns (or faults when it throws).</summary>
    public static Task Start(string name, Action<CancellationToken> loop, CancellationToken stoppingToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
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
}
