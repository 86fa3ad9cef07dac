using System.Globalization;
using FlashMall.Kernel.Http;

namespace FlashMall.UnitTests.Http;

public sealed class LowPriorityLaneTests : IDisposable
{
    private readonly LowPriorityLane _lane = new(2);

    [Fact]
    public async Task Work_and_its_continuations_run_on_the_lanes_threads_at_the_lowest_priority()
    {
        var seen = await Task.Factory.StartNew(async () =>
        {
            var before = (Thread.CurrentThread.Name, Nice());
            await Task.Delay(10); // resumes through the captured scheduler, not on the thread pool
            return (Before: before, After: (Thread.CurrentThread.Name, Nice()));
        }, CancellationToken.None, TaskCreationOptions.DenyChildAttach, _lane).Unwrap();

        var expected = ("Non-core lane", OperatingSystem.IsLinux() ? LowPriorityLane.Nice : (int?)null);
        Assert.Equal(expected, seen.Before);
        Assert.Equal(expected, seen.After);
        // The thread pool keeps the process's priority (whatever the test runner was started with).
        Assert.Equal(Nice("/proc/self/stat"), await Task.Run(() => Nice()));
    }

    [Fact]
    public void A_task_waited_for_from_another_thread_still_runs_on_the_lane()
    {
        var task = new Task<string?>(() => Thread.CurrentThread.Name);
        task.Start(_lane);
#pragma warning disable xUnit1031 // blocking on purpose: a blocking wait is where a scheduler may inline the task
        Assert.Equal("Non-core lane", task.Result);
#pragma warning restore xUnit1031
    }

    [Fact]
    public void A_lane_needs_a_thread()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new LowPriorityLane(0));
    }

    /// <summary>A nice value (field 19 of a stat file; by default this thread's), on Linux.</summary>
    private static int? Nice(string file = "/proc/thread-self/stat")
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }
        var stat = File.ReadAllText(file);
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' '); // the name may hold spaces; field 3 onwards
        return int.Parse(fields[19 - 3], CultureInfo.InvariantCulture);
    }

    public void Dispose() => _lane.Dispose();
}
