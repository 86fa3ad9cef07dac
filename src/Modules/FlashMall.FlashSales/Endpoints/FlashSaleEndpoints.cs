using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using FlashMall.Contracts.Catalog;
using FlashMall.FlashSales.Domain;
using FlashMall.FlashSales.Ledger;
using FlashMall.FlashSales.Persistence;
using FlashMall.Kernel.Hosting;
using FlashMall.Kernel.Http;
using FlashMall.Kernel.Idempotency;
using FlashMall.Kernel.Problems;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlashMall.FlashSales.Endpoints;

internal sealed record SaleRequest(string? SkuId, long? SalePrice, int? Quantity, int? PerUserLimit, DateTimeOffset? StartsAt, DateTimeOffset? EndsAt);
internal sealed record SaleCreated(string Id);
internal sealed record SaleView(
    string Id, string SkuId, string ProductId, string Name, long SalePrice, long OriginalPrice, int Quantity, int Remaining,
    DateTimeOffset StartsAt, DateTimeOffset EndsAt, string Status);
/// <remarks>
/// A settable property, not a positional record: the serializer then fills it through the default
/// constructor instead of gathering constructor arguments in two objects of its own per purchase.
/// </remarks>
internal sealed record PurchaseRequest
{
    public int? Quantity { get; init; }
}
internal sealed record PurchaseAccepted(string ReservationId, string Status);
internal sealed record ReservationView(string ReservationId, string Status, string? OrderId);

/// <summary>
/// Flash sales: merchandisers create them; everyone reads them (cached for a second, so
/// <c>remaining</c> lags by at most that); buyers purchase through the stock ledger and follow
/// their reservation.
/// </summary>
internal static partial class FlashSaleEndpoints
{
    public const string PurchaseRateLimitPolicy = "flash-sale-purchase";
    public const string InsufficientStock = "insufficient_stock";
    public const string SoldOut = "sold_out";
    public const string LimitReached = "limit_reached";
    public const string NotStarted = "not_started";
    public const string Ended = "ended";
    public const string LedgerRecovering = "ledger_recovering";

    public const int MaxQuantity = 1_000_000;
    public const int MaxPerUserLimit = 100;
    public const long MaxPrice = 10_000_000_000;
    public static readonly TimeSpan MaxWindow = TimeSpan.FromDays(31);
    public static readonly TimeSpan MaxLeadTime = TimeSpan.FromDays(366);
    private static readonly TimeSpan ReadCacheTime = TimeSpan.FromSeconds(1);

    public static void MapFlashSaleEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/api/admin/flash-sales", Create).WithTags("Flash sales admin").NonCore()
            .RequireAuthorization(Policies.Merchandiser)
            .WithIdempotency<RouteHandlerBuilder, FlashSalesDbContext>();

        routes.MapGet("/api/admin/flash-sales/{id}/reconciliation", Reconcile).WithTags("Flash sales admin").NonCore()
            .RequireAuthorization(Policies.Operator);

        var sales = routes.MapGroup("/api/flash-sales").WithTags("Flash sales").Core();
        sales.MapGet("", List);
        sales.MapGet("/{id}", Get);
        sales.MapPost("/{id}/purchase", Purchase).RequireAuthorization().RequireRateLimiting(PurchaseRateLimitPolicy)
            .WithMetadata(new PerIpLimit(PurchaseRateLimitPolicy,
                services => services.GetRequiredService<IOptions<FlashSalesOptions>>().Value.PurchasesPerIpPerMinute))
            .WithHotPath(PurchaseHotPath(routes.ServiceProvider));

        routes.MapGet("/api/reservations/{id}", GetReservation).WithTags("Flash sales").Core().RequireAuthorization();
    }

    private static async Task<Results<Created<SaleCreated>, ProblemHttpResult>> Create(
        SaleRequest request, FlashSalesDbContext db, ICatalogStock catalog, IIdGenerator ids, TimeProvider clock,
        ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var validator = new Validator();
        Guid skuId = default;
        validator.Require(Guid.TryParse(request.SkuId, out skuId), "skuId", "A SKU id is required.");
        validator.Require(request.SalePrice is > 0 and <= MaxPrice, "salePrice", $"A price in fen, 1 to {MaxPrice}, is required.");
        validator.Require(request.Quantity is > 0 and <= MaxQuantity, "quantity", $"From 1 to {MaxQuantity:N0} units.");
        validator.Require(request.PerUserLimit is > 0 and <= MaxPerUserLimit && request.PerUserLimit <= (request.Quantity ?? int.MaxValue),
            "perUserLimit", $"From 1 to {MaxPerUserLimit}, and not above the quantity.");
        validator.Require(request.StartsAt is not null, "startsAt", "A start time is required.");
        validator.Require(request.EndsAt is not null, "endsAt", "An end time is required.");
        if (request is { StartsAt: { } startsAt, EndsAt: { } endsAt })
        {
            validator.Require(endsAt > startsAt, "endsAt", "The sale must end after it starts.");
            validator.Require(endsAt > now, "endsAt", "The sale must end in the future.");
            validator.Require(endsAt - startsAt <= MaxWindow, "endsAt", "A sale lasts at most 31 days.");
            validator.Require(startsAt <= now + MaxLeadTime, "startsAt", "A sale starts within a year.");
        }
        if (!validator.IsValid)
        {
            return validator.ToProblem();
        }
        if (await catalog.FindSkuAsync(skuId, cancellationToken) is not { } sku)
        {
            return Problems.Validation("skuId", "No such SKU.");
        }
        if (request.SalePrice > sku.Price)
        {
            return Problems.Validation("salePrice", "A flash-sale price cannot be above the SKU's price.");
        }
        // The held-back units and the sale commit together (in the Idempotency-Key's transaction when there is one).
        await using var owned = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(cancellationToken) : null;
        if (!await catalog.TryHoldBackAsync(sku.SkuId, request.Quantity!.Value, db.Database.CurrentTransaction!.GetDbTransaction(), cancellationToken))
        {
            return Problems.Conflict(InsufficientStock, $"The SKU has fewer than {request.Quantity} free units.");
        }
        var sale = SaleEvent.Create(ids.NewId(), sku.SkuId, sku.ProductId, sku.ProductName, request.SalePrice!.Value, sku.Price,
            request.Quantity.Value, request.PerUserLimit!.Value, request.StartsAt!.Value, request.EndsAt!.Value, now);
        db.Sales.Add(sale);
        await db.SaveChangesAsync(cancellationToken);
        if (owned is not null)
        {
            await owned.CommitAsync(CancellationToken.None);
        }
        LogCreated(loggers.CreateLogger(typeof(FlashSaleEndpoints)), sale.Id, sale.SkuId, sale.Quantity, sale.StartsAt);
        return TypedResults.Created($"/api/flash-sales/{sale.Id}", new SaleCreated(sale.Id.ToString()));
    }

    private static async Task<Results<Ok<Reconciliation>, ProblemHttpResult>> Reconcile(string id, SaleReconciler reconciler, CancellationToken cancellationToken) =>
        Guid.TryParse(id, out var saleId) && await reconciler.ReconcileAsync(saleId, cancellationToken) is { } reconciliation
            ? TypedResults.Ok(reconciliation)
            : Problems.NotFound("flash sale");

    private static async Task<Results<Ok<PagedResponse<SaleView>>, ProblemHttpResult>> List(
        string? status, PageRequest page, FlashSalesDbContext db, IStockLedger ledger, HybridCache cache, TimeProvider clock,
        CancellationToken cancellationToken)
    {
        if (status is not (null or SaleStatus.Live or SaleStatus.Upcoming))
        {
            return Problems.Validation("status", "Use live or upcoming.");
        }
        var answer = await cache.GetOrCreateAsync($"flash-sales:list:{status}:{page.Page}:{page.PageSize}", async ct =>
        {
            var now = clock.GetUtcNow();
            var query = db.Sales.AsNoTracking().Where(s => s.EndsAt > now);
            query = status switch
            {
                SaleStatus.Live => query.Where(s => s.StartsAt <= now),
                SaleStatus.Upcoming => query.Where(s => s.StartsAt > now),
                _ => query,
            };
            var total = await query.CountAsync(ct);
            var sales = await query.OrderBy(s => s.StartsAt).ThenBy(s => s.Id).Skip(page.Skip).Take(page.PageSize).ToListAsync(ct);
            var views = new List<SaleView>(sales.Count);
            foreach (var sale in sales)
            {
                views.Add(await ViewAsync(sale, ledger, now, ct));
            }
            return new PagedResponse<SaleView>(views, total, page.Page, page.PageSize);
        }, ReadCache, cancellationToken: cancellationToken);
        return TypedResults.Ok(answer);
    }

    private static async Task<Results<Ok<SaleView>, ProblemHttpResult>> Get(
        string id, FlashSalesDbContext db, SaleDirectory directory, IStockLedger ledger, HybridCache cache, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var saleId) || await directory.FindAsync(saleId, cancellationToken) is null)
        {
            return Problems.NotFound("flash sale"); // unknown ids never reach the cache
        }
        var view = await cache.GetOrCreateAsync($"flash-sales:{saleId}", async ct =>
        {
            var sale = await db.Sales.AsNoTracking().SingleOrDefaultAsync(s => s.Id == saleId, ct);
            return sale is null ? null : await ViewAsync(sale, ledger, clock.GetUtcNow(), ct);
        }, ReadCache, cancellationToken: cancellationToken);
        return view is null ? Problems.NotFound("flash sale") : TypedResults.Ok(view);
    }

    private static readonly HybridCacheEntryOptions ReadCache = new() { Expiration = ReadCacheTime, LocalCacheExpiration = ReadCacheTime };

    private static async Task<SaleView> ViewAsync(SaleEvent sale, IStockLedger ledger, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var remaining = await ledger.RemainingAsync(sale.Id, cancellationToken) ?? sale.Quantity - sale.Reserved;
        return new SaleView(sale.Id.ToString(), sale.SkuId.ToString(), sale.ProductId.ToString(), sale.Name, sale.SalePrice, sale.OriginalPrice,
            sale.Quantity, remaining, sale.StartsAt, sale.EndsAt, sale.StatusAt(now, remaining));
    }

    /// <summary>
    /// Admission without I/O once the sale is known (window, sold-out flag), then the ledger. With an
    /// <c>Idempotency-Key</c> the reservation's id is derived from the buyer, the sale and the key, so
    /// a retry finds the same reservation (in the ledger, or in the database after a restart).
    /// </summary>
    private static async Task<Results<Accepted<PurchaseAccepted>, ProblemHttpResult>> Purchase(
        string id, PurchaseRequest? request, ClaimsPrincipal user, HttpContext http, SaleDirectory directory, IStockLedger ledger,
        IIdGenerator ids, TimeProvider clock, ILoggerFactory loggers, FlashSalesTelemetry telemetry, CancellationToken cancellationToken)
    {
        // Spans name the slow part (admission, ledger, response); null and free when nobody traces.
        using var admission = FlashSalesTelemetry.Source.StartActivity("flash_sale.admission");
        if (!Guid.TryParse(id, out var saleId) || await directory.FindAsync(saleId, cancellationToken) is not { } sale)
        {
            return Problems.NotFound("flash sale");
        }
        var quantity = request?.Quantity ?? 1;
        if (quantity is <= 0 or > MaxPerUserLimit)
        {
            return Problems.Validation("quantity", $"From 1 to {MaxPerUserLimit}.");
        }
        var (key, invalidKey) = IdempotencyFilter.ReadKey(http.Request);
        if (invalidKey is not null)
        {
            return invalidKey;
        }
        var buyer = user.UserId();
        var reservationId = key is not null ? ReservationIdFor(buyer, saleId, key) : ids.NewId();
        if (key is not null && await ledger.FindEarlierAsync(sale, buyer, quantity, reservationId, cancellationToken) is { } earlier)
        {
            // A retry finds its reservation even after the sale has ended or sold out.
            admission?.Stop();
            return Answer(earlier, reservationId, sale, http, telemetry, clock);
        }
        var now = clock.GetUtcNow();
        if (now < sale.StartsAt)
        {
            telemetry.Purchase("not_started");
            return Problems.Conflict(NotStarted, $"The sale starts at {sale.StartsAt:O}.");
        }
        if (now >= sale.EndsAt)
        {
            telemetry.Purchase("ended");
            return Problems.Conflict(Ended, "The sale has ended.");
        }
        if (quantity > sale.PerUserLimit)
        {
            telemetry.Purchase("limit_reached");
            return Problems.Conflict(LimitReached, $"At most {sale.PerUserLimit} per buyer.");
        }

        admission?.Stop();

        ReserveOutcome outcome;
        using var ledgerSpan = FlashSalesTelemetry.Source.StartActivity("flash_sale.ledger");
        try
        {
            outcome = await ledger.ReserveAsync(sale, buyer, quantity, reservationId, keyed: key is not null, cancellationToken);
            ledgerSpan?.SetTag("flashmall.outcome", FlashSalesTelemetry.OutcomeName(outcome));
            ledgerSpan?.Stop();
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            ledgerSpan?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, ex.GetType().Name);
            ledgerSpan?.Stop();
            telemetry.Purchase("failed");
            LogReserveFailed(loggers.CreateLogger(typeof(FlashSaleEndpoints)), ex, saleId);
            http.Response.Headers.RetryAfter = "1";
            return Problems.Create(StatusCodes.Status503ServiceUnavailable, ProblemCodes.ServiceUnavailable,
                "The purchase could not be confirmed. Retry shortly with the same Idempotency-Key: a retry never reserves twice.");
        }
        return Answer(outcome, reservationId, sale, http, telemetry, clock);
    }

    private static Results<Accepted<PurchaseAccepted>, ProblemHttpResult> Answer(
        ReserveOutcome outcome, Guid reservationId, SaleTerms sale, HttpContext http, FlashSalesTelemetry telemetry, TimeProvider clock)
    {
        using var response = FlashSalesTelemetry.Source.StartActivity("flash_sale.response");
        telemetry.Purchase(FlashSalesTelemetry.OutcomeName(outcome));
        if (outcome == ReserveOutcome.SoldOut)
        {
            telemetry.SoldOut(sale, clock.GetUtcNow());
        }
        switch (outcome)
        {
            case ReserveOutcome.Reserved or ReserveOutcome.Replayed:
                if (outcome == ReserveOutcome.Replayed)
                {
                    http.Response.Headers[IdempotencyFilter.ReplayedHeaderName] = "true";
                }
                return TypedResults.Accepted($"/api/reservations/{reservationId}", new PurchaseAccepted(reservationId.ToString(), ReservationStatus.Reserved));
            case ReserveOutcome.InFlight:
                return Problems.Conflict(ProblemCodes.IdempotencyInFlight, "A request with this Idempotency-Key is still being processed; retry.");
            case ReserveOutcome.KeyReused:
                return Problems.Create(StatusCodes.Status422UnprocessableEntity, ProblemCodes.IdempotencyKeyReused,
                    "This Idempotency-Key was used with a different request.");
            case ReserveOutcome.LimitReached:
                return Problems.Conflict(LimitReached, $"At most {sale.PerUserLimit} per buyer.");
            case ReserveOutcome.NotStarted:
                return Problems.Conflict(NotStarted, $"The sale starts at {sale.StartsAt:O}.");
            case ReserveOutcome.Ended:
                return Problems.Conflict(Ended, "The sale has ended.");
            case ReserveOutcome.Busy:
                http.Response.Headers.RetryAfter = "1";
                return Problems.Create(StatusCodes.Status503ServiceUnavailable, ProblemCodes.ServiceUnavailable,
                    "The node is writing earlier reservations to the database; nothing was reserved. Retry in a second.");
            case ReserveOutcome.Recovering:
                http.Response.Headers.RetryAfter = "1";
                return Problems.Create(StatusCodes.Status503ServiceUnavailable, LedgerRecovering,
                    "The stock ledger is being rebuilt from the database; nothing was reserved. Retry in a second.");
            default:
                return Problems.Conflict(SoldOut, "Sold out.");
        }
    }

    /// <summary>A reservation id that only this buyer's key for this sale produces (SHA-256, the first 16 bytes).</summary>
    internal static Guid ReservationIdFor(Guid buyer, Guid saleId, string key)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes($"{buyer:N}/{saleId:N}/{key}"), hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x80); // RFC 9562 version 8 (custom)
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash[..16], bigEndian: true);
    }

    /// <summary>The buyer's own reservation: its row, or (Redis ledger) admitted and not yet written, which reads as reserved.</summary>
    private static async Task<Results<Ok<ReservationView>, ProblemHttpResult>> GetReservation(
        string id, ClaimsPrincipal user, FlashSalesDbContext db, IStockLedger ledger, CancellationToken cancellationToken)
    {
        var buyer = user.UserId();
        if (!Guid.TryParse(id, out var reservationId))
        {
            return Problems.NotFound("reservation");
        }
        if (await RowAsync(db, reservationId, buyer, cancellationToken) is { } reservation)
        {
            return TypedResults.Ok(reservation);
        }
        if (await ledger.IsAdmittedAsync(reservationId, buyer, cancellationToken))
        {
            return TypedResults.Ok(new ReservationView(reservationId.ToString(), ReservationStatus.Reserved, null));
        }
        // Written (and no longer waiting in the ledger) between the two looks: the row is there now.
        return await RowAsync(db, reservationId, buyer, cancellationToken) is { } written
            ? TypedResults.Ok(written)
            : Problems.NotFound("reservation");
    }

    private static async Task<ReservationView?> RowAsync(FlashSalesDbContext db, Guid reservationId, Guid buyer, CancellationToken cancellationToken) =>
        await db.Reservations.AsNoTracking().SingleOrDefaultAsync(r => r.Id == reservationId && r.UserId == buyer, cancellationToken) is { } row
            ? new ReservationView(row.Id.ToString(), row.Status, row.OrderId?.ToString())
            : null;

    [LoggerMessage(Level = LogLevel.Information, Message = "Flash sale {SaleId} created: SKU {SkuId}, {Quantity} units, starts {StartsAt}")]
    private static partial void LogCreated(ILogger logger, Guid saleId, Guid skuId, int quantity, DateTimeOffset startsAt);

    [LoggerMessage(Level = LogLevel.Error, Message = "Reserving in flash sale {SaleId} failed; the buyer was told to retry")]
    private static partial void LogReserveFailed(ILogger logger, Exception exception, Guid saleId);
}
