using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using FlashMall.Media.Endpoints;
using Microsoft.Extensions.Options;

namespace FlashMall.Media.Storage;

/// <summary>
/// S3-compatible object storage (AWS S3, MinIO, Ceph, OSS/COS in S3 mode …): objects at
/// <c>{Media:S3:Prefix}{name}</c> in <c>Media:S3:Bucket</c>, written with the same immutable
/// <c>Cache-Control</c> the node serves, so a CDN may pull from the bucket or from the node.
/// </summary>
internal sealed class S3BlobStore(IAmazonS3 s3, IOptions<MediaOptions> options) : IBlobStore
{
    private readonly S3StoreOptions _options = options.Value.S3;

    public async Task<bool> ExistsAsync(string name, CancellationToken cancellationToken = default)
    {
        try
        {
            await s3.GetObjectMetadataAsync(_options.Bucket, _options.Prefix + name, cancellationToken);
            return true;
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    public async Task PutAsync(string name, ReadOnlyMemory<byte> content, string contentType, CancellationToken cancellationToken = default)
    {
        if (await ExistsAsync(name, cancellationToken))
        {
            return; // content-addressed: what is there is what we would write
        }
        using var body = new MemoryStream(content.ToArray(), writable: false);
        var request = new PutObjectRequest
        {
            BucketName = _options.Bucket,
            Key = _options.Prefix + name,
            InputStream = body,
            ContentType = contentType,
            // One signed request with a known length: every S3-compatible server takes it.
            UseChunkEncoding = false,
        };
        request.Headers.CacheControl = MediaEndpoints.CacheControl;
        await s3.PutObjectAsync(request, cancellationToken);
    }

    public async Task<BlobContent?> OpenAsync(string name, CancellationToken cancellationToken = default)
    {
        try
        {
            var response = await s3.GetObjectAsync(_options.Bucket, _options.Prefix + name, cancellationToken);
            return new BlobContent(response.ResponseStream, response.ContentLength, response.LastModified ?? DateTimeOffset.UnixEpoch.UtcDateTime);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>The client for <c>Media:S3:*</c>: path-style addressing and no optional checksums, which S3-compatible servers do not all speak.</summary>
    public static IAmazonS3 CreateClient(S3StoreOptions options)
    {
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            Timeout = TimeSpan.FromSeconds(30),
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
