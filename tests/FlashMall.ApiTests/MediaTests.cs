using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using FlashMall.ApiTests.Infrastructure;
using FlashMall.Kernel.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SkiaSharp;

namespace FlashMall.ApiTests;

/// <summary>The upload pipeline through <c>POST /api/circle/posts</c>, and how stored images are served.</summary>
public sealed class MediaTests(FlashMallFactory factory) : IClassFixture<FlashMallFactory>
{
    private string DataDirectory => factory.Services.GetRequiredService<IOptions<DataOptions>>().Value.FullPath;

    private int StoredFiles()
    {
        var media = Path.Combine(DataDirectory, "media");
        return Directory.Exists(media) ? Directory.GetFiles(media, "*", SearchOption.AllDirectories).Length : 0;
    }

    private int StagedFiles()
    {
        var staging = Path.Combine(DataDirectory, "media-staging");
        return Directory.Exists(staging) ? Directory.GetFiles(staging).Length : 0;
    }

    private async Task<HttpClient> PosterAsync() => (await factory.NewUserAsync()).Client;

    private static async Task<(byte[] Bytes, HttpResponseMessage Response)> FetchAsync(HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        await response.EnsureStatusAsync(HttpStatusCode.OK);
        return (await response.Content.ReadAsByteArrayAsync(), response);
    }

    private static SKSizeI SizeOf(byte[] image)
    {
        using var codec = SKCodec.Create(new MemoryStream(image));
        Assert.NotNull(codec);
        return codec.Info.Size;
    }

    [Fact]
    public async Task A_post_with_three_real_images_serves_each_upright_at_its_size_without_metadata()
    {
        using var client = await PosterAsync();
        var png = TestImages.Photo(800, 600, SKEncodedImageFormat.Png);
        var jpeg = TestImages.Photo(640, 480, SKEncodedImageFormat.Jpeg, seed: 2);
        var sideways = TestImages.JpegWithExif(600, 400);
        using (var codec = SKCodec.Create(new MemoryStream(sideways)))
        {
            Assert.Equal(SKEncodedOrigin.RightTop, codec.EncodedOrigin); // the upload really says "rotate me"
        }
        Assert.Contains(TestImages.SecretMarker, Encoding.ASCII.GetString(sideways), StringComparison.Ordinal);

        var response = await client.PostAsync("/api/circle/posts", TestImages.Post("晒单 three photos",
            (png, "a.png", "image/png"), TestImages.Jpeg(jpeg), TestImages.Jpeg(sideways, "sideways.jpg")));
        var created = await response.JsonAsync(HttpStatusCode.Created);
        Assert.False(string.IsNullOrEmpty(created.GetProperty("postId").GetString()));
        var images = created.GetProperty("images").EnumerateArray().ToList();
        Assert.Equal(3, images.Count);

        (int W, int H, int ThumbW, int ThumbH)[] expected = [(800, 600, 320, 240), (640, 480, 320, 240), (400, 600, 213, 320)];
        for (var i = 0; i < 3; i++)
        {
            var (full, fullResponse) = await FetchAsync(client, images[i].GetProperty("url").GetString()!);
            var (thumb, _) = await FetchAsync(client, images[i].GetProperty("thumbUrl").GetString()!);
            Assert.Equal("image/jpeg", fullResponse.Content.Headers.ContentType?.MediaType);
            Assert.Equal(new SKSizeI(expected[i].W, expected[i].H), SizeOf(full));
            Assert.Equal(new SKSizeI(expected[i].ThumbW, expected[i].ThumbH), SizeOf(thumb));
            foreach (var served in new[] { full, thumb })
            {
                Assert.False(TestImages.HasApp1(served), $"image {i} still has an EXIF/XMP segment");
                Assert.DoesNotContain(TestImages.SecretMarker, Encoding.ASCII.GetString(served), StringComparison.Ordinal);
                using var codec = SKCodec.Create(new MemoryStream(served));
                Assert.Equal(SKEncodedOrigin.TopLeft, codec.EncodedOrigin);
            }
        }

        // The sideways photo was turned clockwise: its red left half is now on top, blue at the bottom.
        var (upright, _) = await FetchAsync(client, images[2].GetProperty("url").GetString()!);
        using var pixels = SKBitmap.Decode(upright);
        var top = pixels.GetPixel(200, 20);
        var bottom = pixels.GetPixel(200, 580);
        Assert.True(top.Red > 200 && top.Blue < 80, $"top should be red, was {top}");
        Assert.True(bottom.Blue > 200 && bottom.Red < 80, $"bottom should be blue, was {bottom}");
        Assert.Equal(0, StagedFiles());
    }

    [Fact]
    public async Task Stored_images_are_served_immutable_with_an_etag_and_revalidate_to_304()
    {
        using var client = await PosterAsync();
        var response = await client.PostAsync("/api/circle/posts",
            TestImages.Post("etag", TestImages.Jpeg(TestImages.Photo(300, 200, SKEncodedImageFormat.Jpeg, seed: 7))));
        var url = (await response.JsonAsync(HttpStatusCode.Created)).GetProperty("images")[0].GetProperty("url").GetString()!;
        Assert.StartsWith("/media/", url, StringComparison.Ordinal);

        using var anonymous = factory.CreateClient();
        var first = await anonymous.GetAsync(url);
        await first.EnsureStatusAsync(HttpStatusCode.OK);
        Assert.Equal("public, max-age=31536000, immutable", first.Headers.CacheControl?.ToString());
        var etag = first.Headers.ETag;
        Assert.NotNull(etag);

        using var revalidate = new HttpRequestMessage(HttpMethod.Get, url);
        revalidate.Headers.IfNoneMatch.Add(etag);
        var second = await anonymous.SendAsync(revalidate);
        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);

        await (await anonymous.GetAsync("/media/" + new string('0', 40) + ".jpg")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "not_found");
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync("/media/..%2Fkeys.jpg")).StatusCode);
    }

    [Fact]
    public async Task Identical_uploads_are_stored_once()
    {
        using var client = await PosterAsync();
        var photo = TestImages.Photo(500, 500, SKEncodedImageFormat.Jpeg, seed: 11);
        var first = await (await client.PostAsync("/api/circle/posts", TestImages.Post("once", TestImages.Jpeg(photo)))).JsonAsync(HttpStatusCode.Created);
        var stored = StoredFiles();
        var second = await (await client.PostAsync("/api/circle/posts", TestImages.Post("twice", TestImages.Jpeg(photo, "copy.jpg"))))
            .JsonAsync(HttpStatusCode.Created);
        Assert.Equal(first.GetProperty("images")[0].GetProperty("url").GetString(), second.GetProperty("images")[0].GetProperty("url").GetString());
        Assert.Equal(stored, StoredFiles());
    }

    [Fact]
    public async Task A_text_file_named_png_is_415_and_nothing_is_stored()
    {
        using var client = await PosterAsync();
        var before = StoredFiles();
        var text = Encoding.UTF8.GetBytes("This is not a picture, whatever its name says.\n");
        var response = await client.PostAsync("/api/circle/posts", TestImages.Post("fake", (text, "holiday.png", "image/png")));
        await response.ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
        Assert.Equal(before, StoredFiles());
        Assert.Equal(0, StagedFiles());
    }

    [Fact]
    public async Task A_png_declaring_60000_by_60000_pixels_is_422_before_decoding()
    {
        using var client = await PosterAsync();
        var before = StoredFiles();
        var bomb = TestImages.PngDeclaring(60_000, 60_000);
        Assert.True(bomb.Length < 10_000);
        var response = await client.PostAsync("/api/circle/posts", TestImages.Post("bomb", (bomb, "bomb.png", "image/png")));
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "image_too_large");
        Assert.Contains("60000×60000", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, StoredFiles());
    }

    [Fact]
    public async Task A_file_that_starts_like_a_jpeg_but_does_not_decode_is_422()
    {
        using var client = await PosterAsync();
        var before = StoredFiles();
        byte[] broken = [0xFF, 0xD8, 0xFF, 0xE0, .. Enumerable.Repeat((byte)0x42, 4000)];
        var response = await client.PostAsync("/api/circle/posts", TestImages.Post("broken", TestImages.Jpeg(broken)));
        await response.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "image_undecodable");
        Assert.Equal(before, StoredFiles());
    }

    [Fact]
    public async Task Ten_images_are_400_and_nothing_is_stored()
    {
        using var client = await PosterAsync();
        var before = StoredFiles();
        var images = Enumerable.Range(0, 10).Select(i => TestImages.Jpeg(TestImages.Photo(64, 64, SKEncodedImageFormat.Jpeg, seed: 100 + i), $"{i}.jpg")).ToArray();
        var response = await client.PostAsync("/api/circle/posts", TestImages.Post("ten", images));
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        Assert.True(problem.GetProperty("errors").TryGetProperty("images", out _));
        Assert.Equal(before, StoredFiles());
    }

    [Fact]
    public async Task Nine_images_are_accepted()
    {
        using var client = await PosterAsync();
        var images = Enumerable.Range(0, 9).Select(i => TestImages.Jpeg(TestImages.Photo(64, 48, SKEncodedImageFormat.Jpeg, seed: 200 + i), $"{i}.jpg")).ToArray();
        var created = await (await client.PostAsync("/api/circle/posts", TestImages.Post("nine", images))).JsonAsync(HttpStatusCode.Created);
        Assert.Equal(9, created.GetProperty("images").GetArrayLength());
    }

    [Fact]
    public async Task A_post_declaring_more_than_nine_full_images_is_413_before_it_is_read()
    {
        var user = await factory.NewUserAsync();
        using var client = factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", user.Tokens.AccessToken);
        const long declared = 9L * 10 * 1024 * 1024 + 1024 * 1024 + 1;
        var source = new GeneratedStream(declared);
        var content = new StreamContent(source);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=b");
        content.Headers.ContentLength = declared;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var response = await client.PostAsync("/api/circle/posts", content, timeout.Token);
        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
        Assert.Contains($"{declared - 1} bytes", problem.GetProperty("detail").GetString(), StringComparison.Ordinal); // this endpoint's limit, not the 1 MB default
        Assert.True(source.BytesRead < 10L * 1024 * 1024, $"{source.BytesRead} bytes were read");
    }

    [Fact]
    public async Task A_body_that_is_not_multipart_is_415()
    {
        using var client = await PosterAsync();
        var response = await client.PostAsync("/api/circle/posts", new StringContent(JsonSerializer.Serialize(new { text = "json" }), Encoding.UTF8, "application/json"));
        await response.ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
    }
}

/// <summary>A node re-encoding as WebP, with a crashed upload's staging file left in its data folder.</summary>
public sealed class WebpMediaFactory : FlashMallFactory
{
    public string? Leftover { get; private set; }

    public string? Fresh { get; private set; }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Settings["Media:OutputFormat"] = "Webp";
        var staging = Path.Combine(Settings["Data:Directory"]!, "media-staging");
        Directory.CreateDirectory(staging);
        Leftover = Path.Combine(staging, "crashed-upload");
        await File.WriteAllTextAsync(Leftover, "half an upload");
        File.SetLastWriteTimeUtc(Leftover, DateTime.UtcNow.AddHours(-2));
        Fresh = Path.Combine(staging, "another-nodes-upload");
        await File.WriteAllTextAsync(Fresh, "in progress");
    }
}

public sealed class WebpMediaTests(WebpMediaFactory factory) : IClassFixture<WebpMediaFactory>
{
    [Fact]
    public async Task With_webp_output_every_size_is_served_as_webp_at_its_size()
    {
        using var client = (await factory.NewUserAsync()).Client;
        var response = await client.PostAsync("/api/circle/posts",
            TestImages.Post("webp", TestImages.Jpeg(TestImages.Photo(1600, 1200, SKEncodedImageFormat.Jpeg, seed: 9))));
        var image = (await response.JsonAsync(HttpStatusCode.Created)).GetProperty("images")[0];
        foreach (var (field, size) in new[] { ("url", new SKSizeI(1600, 1200)), ("mediumUrl", new SKSizeI(1080, 810)), ("thumbUrl", new SKSizeI(320, 240)) })
        {
            var url = image.GetProperty(field).GetString()!;
            Assert.EndsWith(".webp", url, StringComparison.Ordinal);
            var served = await client.GetAsync(url);
            await served.EnsureStatusAsync(HttpStatusCode.OK);
            Assert.Equal("image/webp", served.Content.Headers.ContentType?.MediaType);
            using var codec = SKCodec.Create(new MemoryStream(await served.Content.ReadAsByteArrayAsync()));
            Assert.Equal(SKEncodedImageFormat.Webp, codec.EncodedFormat);
            Assert.Equal(size, codec.Info.Size);
        }
    }

    [Fact]
    public async Task Staging_files_left_by_a_crash_are_removed_at_start_and_recent_ones_are_kept()
    {
        using var client = factory.CreateClient();
        await (await client.GetAsync("/health/live")).EnsureStatusAsync(HttpStatusCode.OK);
        Assert.False(File.Exists(factory.Leftover));
        Assert.True(File.Exists(factory.Fresh));
    }
}

/// <summary>A node whose image URLs point at a CDN host.</summary>
public sealed class CdnMediaFactory : FlashMallFactory
{
    public const string Cdn = "https://cdn.flashmall.test";

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Settings["Media:PublicBaseUrl"] = Cdn + "/";
    }
}

public sealed class CdnMediaTests(CdnMediaFactory factory) : IClassFixture<CdnMediaFactory>
{
    [Fact]
    public async Task With_a_public_base_url_image_urls_point_at_the_cdn_and_the_node_still_serves_the_path()
    {
        using var client = (await factory.NewUserAsync()).Client;
        var response = await client.PostAsync("/api/circle/posts",
            TestImages.Post("cdn", TestImages.Jpeg(TestImages.Photo(120, 90, SKEncodedImageFormat.Jpeg, seed: 5))));
        var image = (await response.JsonAsync(HttpStatusCode.Created)).GetProperty("images")[0];
        var url = new Uri(image.GetProperty("url").GetString()!);
        Assert.Equal("cdn.flashmall.test", url.Host);
        Assert.StartsWith(CdnMediaFactory.Cdn + "/media/", image.GetProperty("thumbUrl").GetString(), StringComparison.Ordinal);
        // The CDN pulls from the node's /media path (origin).
        var origin = await client.GetAsync(url.PathAndQuery);
        await origin.EnsureStatusAsync(HttpStatusCode.OK);
    }
}

/// <summary>Runs alone: it measures this process's managed memory, which tests running beside it would move.</summary>
[CollectionDefinition(nameof(MemoryMeasuringTests), DisableParallelization = true)]
public sealed class MemoryMeasuringTests;

/// <summary>A node on a real loopback port: Kestrel's socket pushes back on a sender the way production does (the in-memory test server does not).</summary>
public sealed class KestrelFactory : FlashMallFactory
{
    public KestrelFactory() => UseKestrel(0);
}

[Collection(nameof(MemoryMeasuringTests))]
public sealed class UploadMemoryTests(KestrelFactory factory) : IClassFixture<KestrelFactory>
{
    [Fact]
    public async Task Thirty_megabytes_is_413_without_the_server_holding_them_in_memory()
    {
        // Without the test client's redirect handler, which copies a request body into memory to resend it.
        var user = await factory.NewUserAsync();
        using var client = factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions
        {
            AllowAutoRedirect = false, BaseAddress = user.Client.BaseAddress!,
        });
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", user.Tokens.AccessToken);
        var media = Path.Combine(factory.Services.GetRequiredService<IOptions<DataOptions>>().Value.FullPath, "media");
        var staging = Path.Combine(factory.Services.GetRequiredService<IOptions<DataOptions>>().Value.FullPath, "media-staging");
        const long size = 30L * 1024 * 1024;
        var source = new GeneratedStream(size);
        var content = new MultipartFormDataContent { { new StringContent("big"), "text" } };
        var part = new StreamContent(source, 64 * 1024);
        part.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        content.Add(part, "images", "huge.jpg");

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        long peak = baseline;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: false));
                await Task.Delay(5);
            }
        });
        var response = await client.PostAsync("/api/circle/posts", content);
        await sampling.CancelAsync();
        await sampler;

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
        Assert.Contains("10,485,760", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        // The client and server share this process: a buffered upload would show as ≥ 30 MB.
        // Allocation between collections is not retention, so the bound is loose but far below 30 MB.
        Assert.True(peak - baseline < 20L * 1024 * 1024, $"managed memory grew by {(peak - baseline) / 1024 / 1024} MB; allocated {(GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) / 1024 / 1024} MB; after a collection {(GC.GetTotalMemory(true) - baseline) / 1024 / 1024} MB");
        Assert.False(Directory.Exists(media) && Directory.EnumerateFiles(media, "*", SearchOption.AllDirectories).Any());
        Assert.False(Directory.Exists(staging) && Directory.EnumerateFiles(staging).Any());
    }
}

/// <summary>A node storing images in a bucket of its own on the S3-compatible server test.sh starts.</summary>
public sealed class S3MediaFactory : FlashMallFactory
{
    public string Bucket { get; } = $"fm-media-{Guid.NewGuid():N}";

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        if (TestEnvironment.S3 is null)
        {
            return;
        }
        var options = S3Settings.Options(Bucket);
        using (var client = FlashMall.Media.Storage.S3BlobStore.CreateClient(options.S3))
        {
            await client.PutBucketAsync(Bucket);
        }
        Settings["Media:Store"] = "S3";
        Settings["Media:S3:ServiceUrl"] = options.S3.ServiceUrl;
        Settings["Media:S3:Bucket"] = Bucket;
        Settings["Media:S3:AccessKey"] = options.S3.AccessKey;
        Settings["Media:S3:SecretKey"] = options.S3.SecretKey;
    }
}

public sealed class S3MediaTests(S3MediaFactory factory) : IClassFixture<S3MediaFactory>
{
    [S3Fact]
    public async Task Images_posted_on_an_S3_node_land_in_the_bucket_and_are_served_at_their_size()
    {
        using var client = (await factory.NewUserAsync()).Client;
        var response = await client.PostAsync("/api/circle/posts",
            TestImages.Post("s3", TestImages.Jpeg(TestImages.JpegWithExif(600, 400), "exif.jpg")));
        var image = (await response.JsonAsync(HttpStatusCode.Created)).GetProperty("images")[0];
        var url = image.GetProperty("url").GetString()!;

        var served = await client.GetAsync(url);
        await served.EnsureStatusAsync(HttpStatusCode.OK);
        Assert.Equal("public, max-age=31536000, immutable", served.Headers.CacheControl?.ToString());
        var bytes = await served.Content.ReadAsByteArrayAsync();
        using (var codec = SKCodec.Create(new MemoryStream(bytes)))
        {
            Assert.Equal(new SKSizeI(400, 600), codec.Info.Size);
        }
        Assert.False(TestImages.HasApp1(bytes));

        var options = S3Settings.Options(factory.Bucket);
        using var s3 = FlashMall.Media.Storage.S3BlobStore.CreateClient(options.S3);
        var keys = (await s3.ListObjectsV2Async(new Amazon.S3.Model.ListObjectsV2Request { BucketName = factory.Bucket })).S3Objects.Select(o => o.Key).ToList();
        Assert.Equal(3, keys.Count); // full, medium, thumbnail
        Assert.Contains("media/" + url[(url.LastIndexOf('/') + 1)..], keys);
        Assert.False(Directory.Exists(Path.Combine(factory.Services.GetRequiredService<IOptions<DataOptions>>().Value.FullPath, "media")));
    }
}
