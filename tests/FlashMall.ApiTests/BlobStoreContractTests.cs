using System.Text;
using Amazon.S3;
using FlashMall.ApiTests.Infrastructure;
using FlashMall.Kernel.Persistence;
using FlashMall.Media;
using FlashMall.Media.Storage;
using Microsoft.Extensions.Options;

namespace FlashMall.ApiTests;

/// <summary>What every blob store must do, run against each (the folder, and S3 over real HTTP).</summary>
internal static class BlobStoreContract
{
    private static string NewName(string suffix = "") => Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + "01234567" + suffix + ".jpg";

    private static async Task<byte[]> ReadAsync(BlobContent blob)
    {
        await using var content = blob.Content;
        using var copy = new MemoryStream();
        await content.CopyToAsync(copy);
        return copy.ToArray();
    }

    public static async Task An_object_put_is_there_with_its_bytes(IBlobStore store)
    {
        var name = NewName();
        var bytes = Encoding.UTF8.GetBytes("pretend jpeg " + name);
        Assert.False(await store.ExistsAsync(name));
        await store.PutAsync(name, bytes, "image/jpeg");
        Assert.True(await store.ExistsAsync(name));
        var blob = await store.OpenAsync(name);
        Assert.NotNull(blob);
        Assert.Equal(bytes.Length, blob.Length);
        Assert.Equal(bytes, await ReadAsync(blob));
        Assert.True(blob.LastModified > DateTimeOffset.UtcNow.AddMinutes(-10));
    }

    public static async Task A_missing_object_is_null_and_absent(IBlobStore store)
    {
        var name = NewName("-t");
        Assert.False(await store.ExistsAsync(name));
        Assert.Null(await store.OpenAsync(name));
    }

    /// <summary>Content-addressed: a name's first object stays, whoever writes it again or at once.</summary>
    public static async Task Writing_a_name_again_or_concurrently_keeps_one_whole_object(IBlobStore store)
    {
        var name = NewName("-m");
        var bytes = Enumerable.Range(0, 200_000).Select(i => (byte)i).ToArray();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => store.PutAsync(name, bytes, "image/jpeg")));
        await store.PutAsync(name, bytes, "image/jpeg");
        Assert.Equal(bytes, await ReadAsync((await store.OpenAsync(name))!));
    }
}

public sealed class FileSystemBlobStoreTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "flashmall-tests", "blobs-" + Guid.NewGuid().ToString("N"));
    private readonly FileSystemBlobStore _store;

    public FileSystemBlobStoreTests() => _store = new FileSystemBlobStore(Options.Create(new DataOptions { Directory = _directory }));

    [Fact]
    public Task An_object_put_is_there_with_its_bytes() => BlobStoreContract.An_object_put_is_there_with_its_bytes(_store);

    [Fact]
    public Task A_missing_object_is_null_and_absent() => BlobStoreContract.A_missing_object_is_null_and_absent(_store);

    [Fact]
    public async Task Writing_a_name_again_or_concurrently_keeps_one_whole_object()
    {
        await BlobStoreContract.Writing_a_name_again_or_concurrently_keeps_one_whole_object(_store);
        Assert.Empty(Directory.GetFiles(_store.Root, "*.tmp", SearchOption.AllDirectories));
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}

/// <summary>The same contract against the S3-compatible server test.sh starts, in a bucket of its own.</summary>
public sealed class S3BlobStoreTests : IAsyncLifetime
{
    private readonly MediaOptions _options = S3Settings.Options($"fm-blobs-{Guid.NewGuid():N}");
    private IAmazonS3? _client;
    private S3BlobStore? _store;

    public async Task InitializeAsync()
    {
        if (TestEnvironment.S3 is null)
        {
            return;
        }
        _client = S3BlobStore.CreateClient(_options.S3);
        await _client.PutBucketAsync(_options.S3.Bucket);
        _store = new S3BlobStore(_client, Options.Create(_options));
    }

    public Task DisposeAsync()
    {
        _client?.Dispose();
        return Task.CompletedTask;
    }

    [S3Fact]
    public Task An_object_put_is_there_with_its_bytes() => BlobStoreContract.An_object_put_is_there_with_its_bytes(_store!);

    [S3Fact]
    public Task A_missing_object_is_null_and_absent() => BlobStoreContract.A_missing_object_is_null_and_absent(_store!);

    [S3Fact]
    public Task Writing_a_name_again_or_concurrently_keeps_one_whole_object() =>
        BlobStoreContract.Writing_a_name_again_or_concurrently_keeps_one_whole_object(_store!);

    [S3Fact]
    public async Task Objects_carry_the_immutable_cache_header_for_a_cdn_pulling_from_the_bucket()
    {
        var name = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + "89abcdef.jpg";
        await _store!.PutAsync(name, new byte[] { 1, 2, 3 }, "image/jpeg");
        var metadata = await _client!.GetObjectMetadataAsync(_options.S3.Bucket, "media/" + name);
        Assert.Equal("public, max-age=31536000, immutable", metadata.Headers.CacheControl);
        Assert.Equal("image/jpeg", metadata.Headers.ContentType);
    }
}

internal static class S3Settings
{
    public static MediaOptions Options(string bucket) => new()
    {
        Store = "S3",
        S3 = new S3StoreOptions
        {
            ServiceUrl = TestEnvironment.S3, Bucket = bucket, AccessKey = TestEnvironment.S3AccessKey, SecretKey = TestEnvironment.S3SecretKey,
        },
    };
}
