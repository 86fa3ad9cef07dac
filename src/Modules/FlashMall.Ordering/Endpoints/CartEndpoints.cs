using System.Security.Claims;
using FlashMall.Contracts.Catalog;
using FlashMall.Kernel.Http;
using FlashMall.Kernel.Persistence;
using FlashMall.Kernel.Problems;
using FlashMall.Ordering.Domain;
using FlashMall.Ordering.Persistence;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace FlashMall.Ordering.Endpoints;

internal sealed record CartItemRequest(string? SkuId, int? Quantity);
internal sealed record CartQuantityRequest(int? Quantity);

/// <summary>
/// A line as the buyer sees it now: today's price and free stock from the catalog; a SKU taken
/// off sale shows no product, name or price and is not <c>available</c> (false also when fewer
/// units are free than the line asks for).
/// </summary>
internal sealed record CartLineView(
    string SkuId, string? ProductId, string? Name, long? UnitPrice, int Quantity, long? LineTotal, int Stock, bool Available);

internal sealed record CartView(IReadOnlyList<CartLineView> Items, long Subtotal, int Quantity);

/// <summary>
/// The buyer's cart: add (to a line already there, or a new line), change, remove. At most
/// <see cref="CartItem.MaxLines"/> SKUs and <see cref="CartItem.MaxQuantity"/> units of each,
/// held exactly under concurrent requests. Prices are shown as the catalog has them now; the
/// cart stores none.
/// </summary>
internal static class CartEndpoints
{
    public const string CartFull = "cart_full";

    /// <summary>What a buyer's cart changes and cart checkouts take turns on.</summary>
    public static string TurnKey(Guid buyer) => $"cart:{buyer:N}";

    public static void MapCartEndpoints(this IEndpointRouteBuilder routes)
    {
        var cart = routes.MapGroup("/api/cart").WithTags("Cart").Core().RequireAuthorization();
        cart.MapGet("", Get);
        cart.MapPost("/items", Add);
        cart.MapPut("/items/{skuId}", Change);
        cart.MapDelete("/items/{skuId}", Remove);
    }

    private static async Task<Ok<CartView>> Get(ClaimsPrincipal user, OrderingDbContext db, ICatalogStock catalog, CancellationToken cancellationToken) =>
        TypedResults.Ok(await ViewAsync(db, catalog, user.UserId(), cancellationToken));

    /// <summary>
    /// Adds units of a SKU: to its line (staying within the per-line maximum) or as a new line
    /// (while the cart has room). A buyer's adds take turns (<see cref="TransactionLocks"/>), so
    /// parallel taps never pass either maximum.
    /// </summary>
    private static async Task<Results<Ok<CartView>, ProblemHttpResult>> Add(
        CartItemRequest request, ClaimsPrincipal user, OrderingDbContext db, ICatalogStock catalog, TimeProvider clock, CancellationToken cancellationToken)
    {
        var validator = new Validator();
        validator.Require(Guid.TryParse(request.SkuId, out var skuId), "skuId", "A SKU id is required.");
        validator.Require(request.Quantity is null or (> 0 and <= CartItem.MaxQuantity), "quantity", $"From 1 to {CartItem.MaxQuantity}.");
        if (!validator.IsValid)
        {
            return validator.ToProblem();
        }
        if (await catalog.FindSkuAsync(skuId, cancellationToken) is null)
        {
            return Problems.Validation("skuId", "No such SKU.");
        }
        var buyer = user.UserId();
        return await AddInTransactionAsync(db, buyer, skuId, request.Quantity ?? 1, clock.GetUtcNow(), cancellationToken) is { } refusal
            ? refusal
            : TypedResults.Ok(await ViewAsync(db, catalog, buyer, cancellationToken));
    }

    private static async Task<ProblemHttpResult?> AddInTransactionAsync(
        OrderingDbContext db, Guid buyer, Guid skuId, int quantity, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await TransactionLocks.TakeTurnAsync(db, TurnKey(buyer), cancellationToken);
        var line = await db.CartItems.Where(i => i.UserId == buyer && i.SkuId == skuId).Select(i => (int?)i.Quantity).SingleOrDefaultAsync(cancellationToken);
        if (line is { } held)
        {
            if (held + quantity > CartItem.MaxQuantity)
            {
                return Problems.Validation("quantity", $"At most {CartItem.MaxQuantity} of one SKU in a cart; it holds {held}.");
            }
            await db.CartItems.Where(i => i.UserId == buyer && i.SkuId == skuId)
                .ExecuteUpdateAsync(s => s.SetProperty(i => i.Quantity, i => i.Quantity + quantity).SetProperty(i => i.UpdatedAt, now), cancellationToken);
        }
        else
        {
            if (await db.CartItems.CountAsync(i => i.UserId == buyer, cancellationToken) >= CartItem.MaxLines)
            {
                return Problems.Conflict(CartFull, $"A cart holds at most {CartItem.MaxLines} different SKUs.");
            }
            db.CartItems.Add(CartItem.Create(buyer, skuId, quantity, now));
            await db.SaveChangesAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return null;
    }

    private static async Task<Results<Ok<CartView>, ProblemHttpResult>> Change(
        string skuId, CartQuantityRequest request, ClaimsPrincipal user, OrderingDbContext db, ICatalogStock catalog, TimeProvider clock,
        CancellationToken cancellationToken)
    {
        if (request.Quantity is not (> 0 and <= CartItem.MaxQuantity))
        {
            return Problems.Validation("quantity", $"From 1 to {CartItem.MaxQuantity} (DELETE removes the line).");
        }
        var buyer = user.UserId();
        var now = clock.GetUtcNow();
        var changed = Guid.TryParse(skuId, out var sku)
            && await db.CartItems.Where(i => i.UserId == buyer && i.SkuId == sku)
                .ExecuteUpdateAsync(s => s.SetProperty(i => i.Quantity, request.Quantity.Value).SetProperty(i => i.UpdatedAt, now), cancellationToken) == 1;
        return changed ? TypedResults.Ok(await ViewAsync(db, catalog, buyer, cancellationToken)) : Problems.NotFound("cart item");
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Remove(string skuId, ClaimsPrincipal user, OrderingDbContext db, CancellationToken cancellationToken)
    {
        var buyer = user.UserId();
        var removed = Guid.TryParse(skuId, out var sku)
            && await db.CartItems.Where(i => i.UserId == buyer && i.SkuId == sku).ExecuteDeleteAsync(cancellationToken) == 1;
        return removed ? TypedResults.NoContent() : Problems.NotFound("cart item");
    }

    private static async Task<CartView> ViewAsync(OrderingDbContext db, ICatalogStock catalog, Guid buyer, CancellationToken cancellationToken)
    {
        var items = await db.CartItems.AsNoTracking().Where(i => i.UserId == buyer).OrderBy(i => i.AddedAt).ThenBy(i => i.SkuId).ToListAsync(cancellationToken);
        var skus = await catalog.FindSkusAsync([.. items.Select(i => i.SkuId)], cancellationToken);
        var lines = items.Select(i => skus.TryGetValue(i.SkuId, out var sku)
                ? new CartLineView(i.SkuId.ToString(), sku.ProductId.ToString(), sku.ProductName, sku.Price, i.Quantity, checked(sku.Price * i.Quantity), sku.Stock, sku.Stock >= i.Quantity)
                : new CartLineView(i.SkuId.ToString(), null, null, null, i.Quantity, null, 0, false))
            .ToList();
        return new CartView(lines, lines.Where(l => l.Available).Sum(l => l.LineTotal ?? 0), lines.Sum(l => l.Quantity));
    }
}
