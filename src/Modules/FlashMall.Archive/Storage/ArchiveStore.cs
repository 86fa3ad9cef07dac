using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using FlashMall.Kernel.Persistence;
using Microsoft.Extensions.Options;

namespace FlashMall.Archive.Storage;

/// <summary>One file of the archive: its key (<c>archive/&lt;dataset&gt;/dt=…/part-….parquet</c>), size and last change.</summary>
internal sealed record ArchiveObject(string Key, long Size, DateTimeOffset LastModified);

/// <summary>Where the archive's files live: a folder under <c>Data:Directory</c>, or an S3-compatible bucket.</summary>
internal interface IArchiveStore
{
    /// <summary>Stores <paramref name="localFile"/> under <paramref name="key"/>, replacing what was there; durable when it returns.</summary>
    Task PutAsync(string key, string localFile, CancellationToken cancellationToken);

    /// <summary>Every file whose key starts with <paramref name="prefix"/>.</summary>
    Task<IReadOnlyList<ArchiveObject>> ListAsync(string prefix, CancellationToken cancellationToken);

    Task DeleteAsync(string key, CancellationToken cancellationToken);

    /// <summary>A local path DuckDB can read the file at (the file itself, or a copy in the local cache).</summary>
    Task<string> LocalPathAsync(ArchiveObject file, CancellationToken cancellationToken);
}

/// <summary>Files at <c>{Data:Directory}/archive/…</c>, each written to a temporary file, flushed to disk and renamed into place.</summary>
internal sealed class FileSystemArchiveStore(IOptions<DataOptions> data) : IArchiveStore
{
    private readonly string _root = data.Value.FullPath;

    private string PathOf(string key) => Path.Combine(_root, key.Replace('/', Path.DirectorySeparatorChar));

    public Task PutAsync(string key, string localFile, CancellationToken cancellationToken)
    {
        var target = PathOf(key);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        // The temporary file was flushed to disk by its writer; the rename is atomic on one file system.
        File.Move(localFile, target, overwrite: true);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<ArchiveObject>> ListAsync(string prefix, CancellationToken cancellationToken)
    {
        var folder = PathOf(prefix[..(prefix.LastIndexOf('/') + 1)]);
        if (!Directory.Exists(folder))
        {
            return Task.FromResult<IReadOnlyList<ArchiveObject>>([]);
        }
        var files = Directory.EnumerateFiles(folder, "*.parquet", SearchOption.AllDirectories)
            .Select(path => new FileInfo(path))
            .Select(file => new ArchiveObject(Path.GetRelativePath(_root, file.FullName).Replace(Path.DirectorySeparatorChar, '/'), file.Length, file.LastWriteTimeUtc))
            .Where(file => file.Key.StartsWith(prefix, StringComparison.Ordinal))
            .OrderBy(file => file.Key, StringComparer.Ordinal)
            .ToList();
        return Task.FromResult<IReadOnlyList<ArchiveObject>>(files);
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        File.Delete(PathOf(key));
        return Task.CompletedTask;
    }

    public Task<string> LocalPathAsync(ArchiveObject file, CancellationToken cancellationToken) => Task.FromResult(PathOf(file.Key));
}

/// <summary>
/// Objects at <c>{Archive:S3:Prefix}archive/…</c> in <c>Archive:S3:Bucket</c>. Queries read local
/// copies under <c>{Data:Directory}/archive-cache/</c> (DuckDB's httpfs extension is not shipped
/// with the node), fetched again when the object's size or time changed.
/// </summary>
internal sealed class S3ArchiveStore(IOptions<ArchiveOptions> options, IOptions<DataOptions> data) : IArchiveStore, IDisposable
{
    private readonly ArchiveS3Options _options = options.Value.S3;
    private readonly AmazonS3Client _s3 = CreateClient(options.Value.S3);
    private readonly string _cache = Path.Combine(data.Value.FullPath, "archive-cache");

    public async Task PutAsync(string key, string localFile, CancellationToken cancellationToken)
    {
        await _s3.PutObjectAsync(new PutObjectRequest
        {
            BucketName = _options.Bucket,
            Key = _options.Prefix + key,
            FilePath = localFile,
            ContentType = "application/vnd.apache.parquet",
            // One signed request with a known length: every S3-compatible server takes it.
            UseChunkEncoding = false,
        }, cancellationToken);
        File.Delete(localFile);
    }

    public async Task<IReadOnlyList<ArchiveObject>> ListAsync(string prefix, CancellationToken cancellationToken)
    {
        var files = new List<ArchiveObject>();
        var request = new ListObjectsV2Request { BucketName = _options.Bucket, Prefix = _options.Prefix + prefix };
        ListObjectsV2Response response;
        do
        {
            response = await _s3.ListObjectsV2Async(request, cancellationToken);
            files.AddRange((response.S3Objects ?? []).Where(o => o.Key.EndsWith(".parquet", StringComparison.Ordinal)).Select(o => new ArchiveObject(
                o.Key[_options.Prefix.Length..], o.Size ?? 0, o.LastModified is { } at ? new DateTimeOffset(at.ToUniversalTime()) : DateTimeOffset.UnixEpoch)));
            request.ContinuationToken = response.NextContinuationToken;
        }
        while (response.IsTruncated == true);
        return [.. files.OrderBy(f => f.Key, StringComparer.Ordinal)];
    }

    public async Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            await _s3.DeleteObjectAsync(_options.Bucket, _options.Prefix + key, cancellationToken);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
        }
    }

    public async Task<string> LocalPathAsync(ArchiveObject file, CancellationToken cancellationToken)
    {
        var path = Path.Combine(_cache, file.Key.Replace('/', Path.DirectorySeparatorChar));
        var local = new FileInfo(path);
        if (local.Exists && local.Length == file.Size && local.LastWriteTimeUtc == file.LastModified.UtcDateTime)
        {
            return path;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        using (var response = await _s3.GetObjectAsync(_options.Bucket, _options.Prefix + file.Key, cancellationToken))
        {
            await using var output = File.Create(temporary);
            await response.ResponseStream.CopyToAsync(output, cancellationToken);
        }
        File.Move(temporary, path, overwrite: true);
        File.SetLastWriteTimeUtc(path, file.LastModified.UtcDateTime);
        return path;
    }

    public void Dispose() => _s3.Dispose();

    /// <summary>Path-style addressing and no optional checksums, which S3-compatible servers do not all speak (as the Media module's client).</summary>
    private static AmazonS3Client CreateClient(ArchiveS3Options options)
    {
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            Timeout = TimeSpan.FromSeconds(60),
            MaxErrorRetry = 2,
        };
        if (!string.IsNullOrEmpty(options.ServiceUrl))
        {
            config.ServiceURL = options.ServiceUrl;
            config.AuthenticationRegion = options.Region;
        }
        else
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(options.Region);
        }
        return string.IsNullOrEmpty(options.AccessKey)
            ? new AmazonS3Client(config)
            : new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config);
    }
}
