// bench/media.sh's helper.
//   photo PATH [TARGET_BYTES]      writes a 4000×3000 photo-like JPEG of about TARGET_BYTES (default 2 MB)
//   upload BASE_URL TOKEN PHOTO SECONDS CONCURRENCY
//                                  posts one image per request for SECONDS from CONCURRENCY
//                                  connections; each copy gets its own JPEG comment, so every
//                                  upload is new to the content-addressed store and fully
//                                  decoded and re-encoded. Prints: uploads/s p50_ms p99_ms statuses
using System.Diagnostics;
using System.Net.Http.Headers;
using SkiaSharp;

return args switch
{
    ["photo", var path, ..] => Photo(path, args.Length > 2 ? long.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 2_000_000),
    ["upload", var baseUrl, var token, var photo, var seconds, var concurrency] =>
        await UploadAsync(new Uri(baseUrl), token, await File.ReadAllBytesAsync(photo),
            TimeSpan.FromSeconds(int.Parse(seconds, System.Globalization.CultureInfo.InvariantCulture)),
            int.Parse(concurrency, System.Globalization.CultureInfo.InvariantCulture)),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: photo PATH [TARGET_BYTES] | upload BASE_URL TOKEN PHOTO SECONDS CONCURRENCY");
    return 2;
}

static int Photo(string path, long target)
{
    using var bitmap = new SKBitmap(4000, 3000);
    using (var canvas = new SKCanvas(bitmap))
    {
        using var sky = new SKPaint();
        sky.Shader = SKShader.CreateLinearGradient(new SKPoint(0, 0), new SKPoint(0, 3000),
            [new SKColor(90, 140, 210), new SKColor(230, 200, 160), new SKColor(60, 90, 40)], SKShaderTileMode.Clamp);
        canvas.DrawRect(0, 0, 4000, 3000, sky);
        using var texture = new SKPaint { BlendMode = SKBlendMode.Overlay };
        texture.Shader = SKShader.CreatePerlinNoiseFractalNoise(0.05f, 0.05f, 4, 7);
        canvas.DrawRect(0, 0, 4000, 3000, texture);
        var random = new Random(42);
        using var shape = new SKPaint { IsAntialias = true };
        for (var i = 0; i < 400; i++)
        {
            shape.Color = new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256), 160);
            canvas.DrawCircle(random.Next(4000), random.Next(3000), random.Next(10, 200), shape);
        }
        using var grain = new SKPaint { BlendMode = SKBlendMode.SoftLight };
        grain.Shader = SKShader.CreatePerlinNoiseTurbulence(0.9f, 0.9f, 2, 3);
        canvas.DrawRect(0, 0, 4000, 3000, grain);
    }
    // The highest quality whose file stays within the target.
    byte[] best = [];
    for (var quality = 98; quality >= 40; quality -= 4)
    {
        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, quality);
        best = data.ToArray();
        if (best.Length <= target)
        {
            break;
        }
    }
    File.WriteAllBytes(path, best);
    Console.WriteLine(best.Length);
    return 0;
}

static async Task<int> UploadAsync(Uri baseUrl, string token, byte[] photo, TimeSpan duration, int concurrency)
{
    using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency }) { BaseAddress = baseUrl, Timeout = TimeSpan.FromMinutes(2) };
    http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    var latencies = new List<double>();
    var statuses = new Dictionary<int, int>();
    var gate = new Lock();
    var counter = 0;
    var clock = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
    {
        while (clock.Elapsed < duration)
        {
            var copy = WithComment(photo, $"bench {Interlocked.Increment(ref counter)} {Guid.NewGuid()}");
            using var content = new MultipartFormDataContent { { new StringContent("bench upload"), "text" } };
            var image = new ByteArrayContent(copy);
            image.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
            content.Add(image, "images", "photo.jpg");
            var started = clock.Elapsed;
            int status;
            try
            {
                using var response = await http.PostAsync("/api/circle/posts", content);
                status = (int)response.StatusCode;
            }
            catch (HttpRequestException)
            {
                status = 0;
            }
            lock (gate)
            {
                latencies.Add((clock.Elapsed - started).TotalMilliseconds);
                statuses[status] = statuses.GetValueOrDefault(status) + 1;
            }
        }
    }));
    var elapsed = clock.Elapsed.TotalSeconds;
    latencies.Sort();
    double Percentile(double p) => latencies.Count == 0 ? 0 : latencies[Math.Min(latencies.Count - 1, (int)(p * latencies.Count))];
    var ok = statuses.GetValueOrDefault(201);
    Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"{ok / elapsed:F1} {Percentile(0.5):F0} {Percentile(0.99):F0} {string.Join(' ', statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}={s.Value}"))}"));
    return ok > 0 ? 0 : 1;
}

// The JPEG with a comment segment (FF FE) right after its start marker: other bytes, the same picture.
static byte[] WithComment(byte[] jpeg, string comment)
{
    var text = System.Text.Encoding.ASCII.GetBytes(comment);
    var segment = new byte[4 + text.Length];
    segment[0] = 0xFF;
    segment[1] = 0xFE;
    segment[2] = (byte)((text.Length + 2) >> 8);
    segment[3] = (byte)(text.Length + 2);
    text.CopyTo(segment, 4);
    return [.. jpeg.AsSpan(0, 2), .. segment, .. jpeg.AsSpan(2)];
}
