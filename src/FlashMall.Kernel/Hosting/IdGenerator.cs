namespace FlashMall.Kernel.Hosting;

/// <summary>
/// The one place ids come from: time-ordered UUIDv7, so new rows land at the end of indexes
/// instead of on random pages.
/// </summary>
public interface IIdGenerator
{
    Guid NewId();
}

internal sealed class TimeOrderedIdGenerator(TimeProvider clock) : IIdGenerator
{
    public Guid NewId() => Guid.CreateVersion7(clock.GetUtcNow());
}
