using FlashMall.Kernel.Persistence;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace FlashMall.Media.Images;

/// <summary>
/// Staged uploads delete themselves when their request ends; a node that crashed mid-upload
/// leaves them behind. At start, files in the staging folder older than an hour (no request
/// lives that long) are removed.
/// </summary>
internal sealed class StagingSweeper(IOptions<DataOptions> data, TimeProvider clock) : IHostedService
{
    public static readonly TimeSpan MinimumAge = TimeSpan.FromHours(1);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var staging = new DirectoryInfo(ImagePipeline.StagingFolder(data.Value));
        if (staging.Exists)
        {
            var cutoff = clock.GetUtcNow().UtcDateTime - MinimumAge;
            foreach (var file in staging.EnumerateFiles().Where(f => f.LastWriteTimeUtc < cutoff))
            {
                try
                {
                    file.Delete();
                }
                catch (IOException)
                {
                    // Still open by someone: not a leftover.
                }
            }
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
