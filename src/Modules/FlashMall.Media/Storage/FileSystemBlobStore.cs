using FlashMall.Kernel.Persistence;
using Microsoft.Extensions.Options;

namespace FlashMall.Media.Storage;

/// <summary>
/// The embedded store: <c>{Data:Directory}/media/{first two characters}/{name}</c>. Objects are
/// written to a temporary file beside their place and moved in, so a reader sees all or nothing.
/// </summary>
internal sealed class FileSystemBlobStore(IOptions<DataOptions> data) : IBlobStore
{
    public string Root { get; } = Path.Combine(data.Value.FullPath, "media");

    public Task<bool> ExistsAsync(string name, CancellationToken cancellationToken = default) => Task.FromResult(File.Exists(PathOf(name)));

    public async Task PutAsync(string name, ReadOnlyMemory<byte> content, string contentType, CancellationToken cancellationToken = default)
    {
        var path = PathOf(name);
        if (File.Exists(path))
        {
            return;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            await File.WriteAllBytesAsync(temporary, content, cancellationToken);
            File.Move(temporary, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another upload of the same bytes got there first: the object is the same.
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    public Task<BlobContent?> OpenAsync(string name, CancellationToken cancellationToken = default)
    {
        var file = new FileInfo(PathOf(name));
        if (!file.Exists)
        {
            return Task.FromResult<BlobContent?>(null);
        }
        var stream = new FileStream(file.FullName, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.Asynchronous);
        return Task.FromResult<BlobContent?>(new BlobContent(stream, stream.Length, file.LastWriteTimeUtc));
    }

    private string PathOf(string name) => Path.Combine(Root, name[..2], name);
}
