using System.Security.Claims;
using FlashMall.Contracts.Catalog;
using FlashMall.Contracts.Coupons;
using FlashMall.Contracts.Ordering;
using FlashMall.Kernel.Hosting;
using FlashMall.Kernel.Http;
using FlashMall.Kernel.Idempotency;
using FlashMall.Kernel.Messaging;
using FlashMall.Kernel.Persistence;
using FlashMall.Kernel.Problems;
using FlashMall.Ordering.Domain;
using FlashMall.Ordering.Persistence;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Options;

namespace FlashMall.Ordering.Endpoints;

internal sealed record CheckoutItem(string? SkuId, int? Quantity);
internal sealed record AddressRequest(string? Name, string? Phone, string? Line1, string? City, string? Region, string? Postcode);
internal sealed record CheckoutRequest(IReadOnlyList<CheckoutItem>? Items, string? CouponId, AddressRequest? Address, IReadOnlyList<string>? CouponIds = null);
internal sealed record OrderPlacedView(string OrderId, string Status, long Total, DateTimeOffset PayBefore);

/// <summary>
/// Checkout: <c>POST /api/orders</c> from an item list or the buyer's cart. Prices and stock are
/// read from the catalog now, never taken from the client; the stock of every line is taken in
/// the same transaction as the order (conditional updates: concurrent checkouts never sell a unit
/// twice), the order's totals are frozen in fen, and <c>OrderPlaced</c> is written to the outbox
/// with them. With an <c>Idempotency-Key</c> a retry answers the same order.
/// </summary>
internal static class CheckoutEndpoints
{
    public const string OutOfStock = "out_of_stock";
    public const string CouponNotApplicable = "coupon_not_applicable";
    public const int MaxCoupons = 5;
    public const int MaxLines = CartItem.MaxLines;

    public static void MapCheckoutEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/api/orders", Checkout).WithTags("Orders").Core().RequireAuthorization()
            .WithIdempotency<RouteHandlerBuilder, OrderingDbContext>();
        routes.MapPut("/api/orders/{id}/address", SetAddress).WithTags("Orders").Core().RequireAuthorization();
    }

    /// <summary>
    /// Where the order ships: a flash-sale order is placed without one and gets it here; a regular
    /// order may correct it. Only the buyer's own order, only before it ships (409 otherwise).
    /// </summary>
    private static async Task<Results<Ok<OrderView>, ProblemHttpResult>> SetAddress(
        string id, AddressRequest request, ClaimsPrincipal user, OrderingDbContext db, CancellationToken cancellationToken)
    {
        var validator = new Validator();
        var address = ValidateAddress(request, validator, prefix: "");
        if (!validator.IsValid)
        {
            return validator.ToProblem();
        }
        var buyer = user.UserId();
        if (!Guid.TryParse(id, out var orderId))
        {
            return Problems.NotFound("order");
        }
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // The row is locked while its state is checked (a no-op update), so an order that ships
        // meanwhile keeps its address.
        var open = await db.Orders.Where(o => o.Id == orderId && o.UserId == buyer && Order.AddressableStatuses.Contains(o.Status))
            .ExecuteUpdateAsync(s => s.SetProperty(o => o.Status, o => o.Status), cancellationToken);
        if (open == 0)
        {
            return await db.Orders.AnyAsync(o => o.Id == orderId && o.UserId == buyer, cancellationToken)
                ? Problems.Conflict(OrderEndpoints.InvalidTransition, "The order has shipped or is closed: its address cannot change.")
                : Problems.NotFound("order");
        }
        var order = await db.Orders.SingleAsync(o => o.Id == orderId, cancellationToken);
        order.ShipTo(address!);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Ok(OrderEndpoints.View(order));
    }

    private static async Task<Results<Created<OrderPlacedView>, ProblemHttpResult>> Checkout(
        CheckoutRequest request, ClaimsPrincipal user, OrderingDbContext db, ICatalogStock catalog, ICouponRedemption coupons, IIdGenerator ids, TimeProvider clock,
        IOptions<OrderingOptions> options, OrderingTelemetry telemetry, CancellationToken cancellationToken)
    {
        var buyer = user.UserId();
        var validator = new Validator();
        var address = ValidateAddress(request.Address, validator);
        var wanted = ValidateItems(request.Items, validator);
        if (!validator.IsValid)
        {
            return validator.ToProblem();
        }
        // couponId (one) and couponIds (several, when their templates allow stacking), in that order.
        var given = (request.CouponId is null ? [] : new[] { request.CouponId }).Concat(request.CouponIds ?? []).ToList();
        var couponIds = new List<Guid>();
        foreach (var text in given)
        {
            if (!Guid.TryParse(text, out var parsed) || couponIds.Contains(parsed) || couponIds.Count == MaxCoupons)
            {
                return Problems.Validation(request.CouponIds is null ? "couponId" : "couponIds", $"Distinct coupon ids, at most {MaxCoupons}.");
            }
            couponIds.Add(parsed);
        }
        var fromCart = wanted is null;
        // The Idempotency-Key filter may have opened the transaction (and commits refusals, to
        // replay them): a savepoint makes sure a refused checkout leaves no stock taken.
        var owned = db.Database.CurrentTransaction is null;
        var transaction = db.Database.CurrentTransaction ?? await db.Database.BeginTransactionAsync(cancellationToken);
        Order order;
        try
        {
            if (fromCart)
            {
                // The cart is read and emptied in the buyer's turn: an add racing the checkout
                // waits for it, and two checkouts of one cart cannot both order it.
                await TransactionLocks.TakeTurnAsync(db, CartEndpoints.TurnKey(buyer), cancellationToken);
                wanted = await db.CartItems.AsNoTracking().Where(i => i.UserId == buyer).OrderBy(i => i.AddedAt)
                    .Select(i => new StockLine(i.SkuId, i.Quantity)).ToListAsync(cancellationToken);
                if (wanted.Count == 0)
                {
                    return Problems.Validation("items", "The cart is empty: add items, or send them.");
                }
            }
            var skus = await catalog.FindSkusAsync([.. wanted!.Select(w => w.SkuId)], cancellationToken);
            if (wanted!.FirstOrDefault(w => !skus.ContainsKey(w.SkuId)) is { } gone)
            {
                return Problems.Conflict(OutOfStock, $"SKU {gone.SkuId} is not on sale.");
            }
            var now = clock.GetUtcNow();
            var lines = wanted!.Select((w, i) =>
            {
                var sku = skus[w.SkuId];
                return new OrderLine(i + 1, sku.SkuId, sku.ProductId, sku.ProductName, sku.Price, w.Quantity);
            }).ToList();
            order = Order.Place(ids.NewId(), buyer, lines, address!, now + options.Value.PaymentWindow, now);

            await transaction.CreateSavepointAsync("checkout", cancellationToken);
            var lacking = await catalog.TryTakeAsync(wanted!, transaction.GetDbTransaction(), cancellationToken);
            if (lacking.Count > 0)
            {
                await transaction.RollbackToSavepointAsync("checkout", cancellationToken);
                return Problems.Conflict(OutOfStock, $"Not enough stock of {string.Join(", ", lacking)}.");
            }
            if (couponIds.Count > 0)
            {
                var couponLines = lines.Select(l => new CouponLine(l.ProductId, skus[l.SkuId].CategoryPath, checked(l.UnitPrice * l.Quantity))).ToList();
                if (await coupons.TryRedeemAsync(couponIds, buyer, order.Id, couponLines, transaction.GetDbTransaction(), cancellationToken) is not { } discount)
                {
                    await transaction.RollbackToSavepointAsync("checkout", cancellationToken);
                    return Problems.Conflict(CouponNotApplicable, "A coupon is not yours to use, is used, is outside its dates, covers none of these items, needs a larger order, or does not stack with the others.");
                }
                order.Discounted(discount);
            }
            var paidInFull = order.PaidInFull();
            db.Orders.Add(order);
            if (fromCart)
            {
                await db.CartItems.Where(i => i.UserId == buyer).ExecuteDeleteAsync(cancellationToken);
            }
            db.AddIntegrationEvent(order.Id.ToString(), new OrderPlaced(order.Id, buyer,
                [.. lines.Select(l => new OrderedLine(l.SkuId, l.ProductId, l.Quantity, l.UnitPrice))], order.Total, now), ids, clock);
            if (paidInFull)
            {
                db.AddIntegrationEvent(order.Id.ToString(), new OrderPaid(order.Id, buyer, null, Guid.Empty, OrderPayments.Lines(order), 0, now), ids, clock);
            }
            await db.SaveChangesAsync(cancellationToken);
            if (owned)
            {
                await transaction.CommitAsync(cancellationToken);
            }
        }
        finally
        {
            if (owned)
            {
                await transaction.DisposeAsync();
            }
        }
        telemetry.Placed(OrderingTelemetry.Checkout, order.Total);
        if (order.Status == OrderStatus.Paid)
        {
            telemetry.Paid(OrderingTelemetry.Checkout, order.Total); // paid in full by coupons
        }
        return TypedResults.Created($"/api/orders/{order.Id}", new OrderPlacedView(order.Id.ToString(), order.Status, order.Total, order.PayBefore));
    }

    private static ShippingAddress? ValidateAddress(AddressRequest? address, Validator validator, string prefix = "address.")
    {
        if (address is null)
        {
            validator.Add("address", "A shipping address is required.");
            return null;
        }
        validator.RequiredText(address.Name, $"{prefix}name", ShippingAddressRules.MaxName);
        validator.Require(address.Phone is not null && ShippingAddressRules.Phone().IsMatch(address.Phone), $"{prefix}phone", "A phone number: digits, spaces or dashes, an optional leading +.");
        validator.RequiredText(address.Line1, $"{prefix}line1", ShippingAddressRules.MaxLine);
        validator.RequiredText(address.City, $"{prefix}city", ShippingAddressRules.MaxName);
        validator.RequiredText(address.Region, $"{prefix}region", ShippingAddressRules.MaxName);
        validator.Require(address.Postcode is null || ShippingAddressRules.Postcode().IsMatch(address.Postcode), $"{prefix}postcode", "2–12 letters, digits, spaces or dashes.");
        return validator.IsValid
            ? new ShippingAddress(address.Name!.Trim(), address.Phone!, address.Line1!.Trim(), address.City!.Trim(), address.Region!.Trim(), address.Postcode)
            : null;
    }

    /// <summary>The lines asked for, or null to check out the cart.</summary>
    private static List<StockLine>? ValidateItems(IReadOnlyList<CheckoutItem>? items, Validator validator)
    {
        if (items is null)
        {
            return null;
        }
        if (items.Count is 0 or > MaxLines)
        {
            validator.Add("items", $"From 1 to {MaxLines} lines (or none at all, to check out the cart).");
            return null;
        }
        var lines = new List<StockLine>();
        var seen = new HashSet<Guid>();
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            if (item is null || !Guid.TryParse(item.SkuId, out var skuId) || item.Quantity is not (> 0 and <= CartItem.MaxQuantity))
            {
                validator.Add($"items[{i}]", $"A skuId and a quantity from 1 to {CartItem.MaxQuantity}.");
                continue;
            }
            if (!seen.Add(skuId))
            {
                validator.Add($"items[{i}]", "Each SKU once.");
                continue;
            }
            lines.Add(new StockLine(skuId, item.Quantity.Value));
        }
        return lines;
    }
}
