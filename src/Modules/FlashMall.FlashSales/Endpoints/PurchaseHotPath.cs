using System.Buffers;
using System.Text.Json;
using FlashMall.FlashSales.Ledger;
using FlashMall.Kernel.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using HttpJsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace FlashMall.FlashSales.Endpoints;

internal static partial class FlashSaleEndpoints
{
    /// <summary>The largest purchase body the hot path reads (a real one is <c>{"quantity":1}</c>); larger ones take the full pipeline.</summary>
    private const int HotPathMaxBodyBytes = 1024;

    /// <summary>
    /// The purchase's lean path (<see cref="Kernel.Http.HotPath"/>, ADR 0009): binds the sale id and
    /// the JSON body by hand and runs <see cref="Purchase"/> itself — the same admission, ledger and
    /// answers. A body it does not read exactly as minimal APIs would (not JSON, chunked, over
    /// <see cref="HotPathMaxBodyBytes"/>, malformed) is left unread for the full pipeline to answer.
    /// </summary>
    private static Func<HttpContext, ValueTask<bool>> PurchaseHotPath(IServiceProvider services)
    {
        var handler = new Lazy<HotPurchase>(() => new HotPurchase(
            services.GetRequiredService<SaleDirectory>(), services.GetRequiredService<IStockLedger>(), services.GetRequiredService<IIdGenerator>(),
            services.GetRequiredService<TimeProvider>(), services.GetRequiredService<ILoggerFactory>(), services.GetRequiredService<FlashSalesTelemetry>(),
            services.GetRequiredService<IOptions<HttpJsonOptions>>().Value.SerializerOptions));
        return http => handler.Value.HandleAsync(http);
    }

    private sealed class HotPurchase(
        SaleDirectory directory, IStockLedger ledger, IIdGenerator ids, TimeProvider clock, ILoggerFactory loggers, FlashSalesTelemetry telemetry,
        JsonSerializerOptions json)
    {
        public async ValueTask<bool> HandleAsync(HttpContext http)
        {
            var request = http.Request;
            if (request.ContentLength is not { } length || length is <= 0 or > HotPathMaxBodyBytes || !request.HasJsonContentType())
            {
                return false;
            }
            var reader = request.BodyReader;
            var read = await reader.ReadAsync(http.RequestAborted);
            while (!read.IsCompleted && read.Buffer.Length < length)
            {
                reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
                read = await reader.ReadAsync(http.RequestAborted);
            }
            if (read.Buffer.Length != length || !TryRead(read.Buffer, json, out var body))
            {
                reader.AdvanceTo(read.Buffer.Start, read.Buffer.End); // unread: the full pipeline reads it again and answers
                return false;
            }
            reader.AdvanceTo(read.Buffer.End);
            var result = await Purchase((string)request.RouteValues["id"]!, body, http.User, http, directory, ledger, ids, clock, loggers, telemetry, http.RequestAborted);
            await result.ExecuteAsync(http);
            return true;
        }

        private static bool TryRead(ReadOnlySequence<byte> bytes, JsonSerializerOptions json, out PurchaseRequest? body)
        {
            try
            {
                var reader = new Utf8JsonReader(bytes);
                body = JsonSerializer.Deserialize<PurchaseRequest>(ref reader, json);
                return true;
            }
            catch (JsonException)
            {
                body = null;
                return false;
            }
        }
    }
}
