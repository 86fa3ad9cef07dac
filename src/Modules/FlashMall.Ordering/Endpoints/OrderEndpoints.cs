using System.Security.Claims;
using FlashMall.Kernel.Http;
using FlashMall.Kernel.Problems;
using FlashMall.Ordering.Domain;
using FlashMall.Ordering.Persistence;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace FlashMall.Ordering.Endpoints;

internal sealed record OrderItemView(string SkuId, string ProductId, string Name, long UnitPrice, int Quantity);
internal sealed record AddressView(string Name, string Phone, string Line1, string City, string Region, string? Postcode);
internal sealed record OrderView(
    string OrderId, string Status, IReadOnlyList<OrderItemView> Items, long Subtotal, long Discount, long Total, DateTimeOffset PayBefore,
    string? FlashSaleId, DateTimeOffset CreatedAt, AddressView? Address);

/// <summary>A buyer's own orders; another buyer's order is 404, never 403.</summary>
internal static class OrderEndpoints
{
    private static readonly string[] Statuses =
        [OrderStatus.PendingPayment, OrderStatus.Paid, OrderStatus.Shipped, OrderStatus.Completed, OrderStatus.Cancelled, OrderStatus.Refunded];

    public static void MapOrderEndpoints(this IEndpointRouteBuilder routes)
    {
        var orders = routes.MapGroup("/api/orders").WithTags("Orders").Core().RequireAuthorization();
        orders.MapGet("", List);
        orders.MapGet("/{id}", Get);
        orders.MapPost("/{id}/cancel", Cancel);
        orders.MapPost("/{id}/complete", Complete);
        routes.MapPost("/api/admin/orders/{id}/ship", Ship).WithTags("Orders admin").NonCore().RequireAuthorization(Policies.Operator);
    }

    /// <summary>The buyer confirms receipt: <c>shipped → completed</c>; 409 <c>invalid_transition</c> from any other state.</summary>
    private static Task<Results<Ok<OrderView>, ProblemHttpResult>> Complete(string id, ClaimsPrincipal user, OrderingDbContext db, CancellationToken cancellationToken) =>
        MoveAsync(db, id, user.UserId(), OrderStatus.Shipped, OrderStatus.Completed, "Only a shipped order can be completed.", cancellationToken);

    public const string AddressRequired = "address_required";

    /// <summary>
    /// An operator ships a paid order: <c>paid → shipped</c>; 409 <c>invalid_transition</c> from any
    /// other state, 409 <c>address_required</c> for a flash-sale order whose buyer has not said where.
    /// </summary>
    private static async Task<Results<Ok<OrderView>, ProblemHttpResult>> Ship(string id, OrderingDbContext db, CancellationToken cancellationToken)
    {
        if (Guid.TryParse(id, out var orderId)
            && await db.Orders.AsNoTracking().AnyAsync(o => o.Id == orderId && o.Status == OrderStatus.Paid && o.Address == null, cancellationToken))
        {
            return Problems.Conflict(AddressRequired, "The buyer has not given this order's shipping address yet.");
        }
        return await MoveAsync(db, id, buyer: null, OrderStatus.Paid, OrderStatus.Shipped, "Only a paid order can be shipped.", cancellationToken);
    }

    /// <summary>One conditional update: only an order in <paramref name="from"/> moves, once, whatever runs at the same time.</summary>
    private static async Task<Results<Ok<OrderView>, ProblemHttpResult>> MoveAsync(
        OrderingDbContext db, string id, Guid? buyer, string from, string to, string refusal, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var orderId))
        {
            return Problems.NotFound("order");
        }
        var moved = await db.Orders.Where(o => o.Id == orderId && o.Status == from && (buyer == null || o.UserId == buyer))
            .ExecuteUpdateAsync(s => s.SetProperty(o => o.Status, to), cancellationToken);
        var order = await db.Orders.AsNoTracking().SingleOrDefaultAsync(o => o.Id == orderId && (buyer == null || o.UserId == buyer), cancellationToken);
        return order is null ? Problems.NotFound("order")
            : moved == 1 ? TypedResults.Ok(View(order))
            : Problems.Conflict(InvalidTransition, refusal);
    }

    public const string InvalidTransition = "invalid_transition";

    /// <summary>200 with the cancelled order while unpaid; 409 <c>invalid_transition</c> otherwise, changing nothing.</summary>
    private static async Task<Results<Ok<OrderView>, ProblemHttpResult>> Cancel(
        string id, ClaimsPrincipal user, OrderCancellation cancellation, OrderingDbContext db, CancellationToken cancellationToken)
    {
        var buyer = user.UserId();
        if (!Guid.TryParse(id, out var orderId))
        {
            return Problems.NotFound("order");
        }
        switch (await cancellation.CancelAsync(orderId, buyer, OrderCancellation.ByBuyer, cancellationToken))
        {
            case CancelOutcome.NotFound:
                return Problems.NotFound("order");
            case CancelOutcome.NotCancellable:
                return Problems.Conflict(InvalidTransition, "Only an unpaid order can be cancelled.");
            default:
                var order = await db.Orders.AsNoTracking().SingleAsync(o => o.Id == orderId, cancellationToken);
                return TypedResults.Ok(View(order));
        }
    }

    private static async Task<Results<Ok<PagedResponse<OrderView>>, ProblemHttpResult>> List(
        string? status, PageRequest page, ClaimsPrincipal user, OrderingDbContext db, CancellationToken cancellationToken)
    {
        if (status is not null && !Statuses.Contains(status))
        {
            return Problems.Validation("status", $"One of {string.Join(", ", Statuses)}.");
        }
        var buyer = user.UserId();
        var query = db.Orders.AsNoTracking().Where(o => o.UserId == buyer);
        if (status is not null)
        {
            query = query.Where(o => o.Status == status);
        }
        var total = await query.CountAsync(cancellationToken);
        var orders = await query.OrderByDescending(o => o.CreatedAt).ThenByDescending(o => o.Id).Skip(page.Skip).Take(page.PageSize).ToListAsync(cancellationToken);
        return TypedResults.Ok(new PagedResponse<OrderView>([.. orders.Select(View)], total, page.Page, page.PageSize));
    }

    private static async Task<Results<Ok<OrderView>, ProblemHttpResult>> Get(string id, ClaimsPrincipal user, OrderingDbContext db, CancellationToken cancellationToken)
    {
        var buyer = user.UserId();
        return Guid.TryParse(id, out var orderId)
            && await db.Orders.AsNoTracking().SingleOrDefaultAsync(o => o.Id == orderId && o.UserId == buyer, cancellationToken) is { } order
            ? TypedResults.Ok(View(order))
            : Problems.NotFound("order");
    }

    internal static OrderView View(Order order) => new(
        order.Id.ToString(), order.Status,
        [.. order.Lines.Select(l => new OrderItemView(l.SkuId.ToString(), l.ProductId.ToString(), l.ProductName, l.UnitPrice, l.Quantity))],
        order.Subtotal, order.Discount, order.Total, order.PayBefore, order.FlashSaleId?.ToString(), order.CreatedAt,
        order.Address is { } a ? new AddressView(a.Name, a.Phone, a.Line1, a.City, a.Region, a.Postcode) : null);
}
