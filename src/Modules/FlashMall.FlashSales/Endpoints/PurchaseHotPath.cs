using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using FlashMall.FlashSales.Ledger;
using FlashMall.Kernel.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
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
        /// <summary>What minimal APIs send JSON results as.</summary>
        private const string JsonContentType = "application/json; charset=utf-8";

        private readonly JsonTypeInfo<PurchaseAccepted> _acceptedJson = (JsonTypeInfo<PurchaseAccepted>)json.GetTypeInfo(typeof(PurchaseAccepted));

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
            if (result.Result is Accepted<PurchaseAccepted> { Value: { } accepted } answer)
            {
                await WriteAcceptedAsync(http, answer.Location, accepted);
            }
            else
            {
                await result.ExecuteAsync(http); // problems: the problem-details writer adds traceId and code
            }
            return true;
        }

        /// <summary>
        /// The 202 exactly as <see cref="Accepted{TValue}"/> writes it (status, <c>Location</c>, the same
        /// serializer options and content type), minus what that costs: it resolves a logger and the
        /// JSON options from the request's services (opening the request's service scope) and sends
        /// a chunked body. This one leaves with a <c>Content-Length</c>, headers and body in one TCP
        /// segment (a lone phone's answer otherwise came in two: the body, then the last chunk),
        /// and about 200 bytes less garbage per purchase (docs/BENCHMARKS.md).
        /// </summary>
        private ValueTask WriteAcceptedAsync(HttpContext http, string? location, PurchaseAccepted accepted)
        {
            var bytes = JsonSerializer.SerializeToUtf8Bytes(accepted, _acceptedJson);
            var response = http.Response;
            response.StatusCode = StatusCodes.Status202Accepted;
            response.Headers.Location = location;
            response.ContentType = JsonContentType;
            response.ContentLength = bytes.Length;
            // No token: a buyer gone before the answer is not an error (the reservation stands, a
            // retry with the key finds it); the server drops writes to a closed connection.
            return response.Body.WriteAsync(bytes);
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
