using System.Data.Common;
using FlashMall.Contracts.Ordering;
using FlashMall.Kernel.Hosting;
using FlashMall.Kernel.Messaging;
using FlashMall.Kernel.Persistence;
using FlashMall.Ordering.Domain;
using FlashMall.Ordering.Persistence;
using Microsoft.EntityFrameworkCore;

namespace FlashMall.Ordering;

/// <summary>
/// Payments' view of orders and the two transitions it drives. Each is one conditional update
/// (only <c>pending_payment</c> becomes <c>paid</c>, only <c>paid</c> becomes <c>refunded</c>), so
/// duplicate or concurrent settlements change an order once, with its event in the same transaction.
/// </summary>
internal sealed class OrderPayments(OrderingDbContext db, IIdGenerator ids, TimeProvider clock, OrderingTelemetry telemetry) : IOrderPayments
{
    public Task<PayableOrder?> FindAsync(Guid orderId, CancellationToken cancellationToken = default) =>
        db.Orders.AsNoTracking()
            .Where(o => o.Id == orderId)
            .Select(o => new PayableOrder(o.Id, o.UserId, o.Status, o.Total, o.PayBefore))
            .SingleOrDefaultAsync(cancellationToken);

    public async Task<bool> MarkPaidAsync(Guid orderId, Guid paymentId, DbTransaction transaction, CancellationToken cancellationToken = default)
    {
        if (await MoveAsync(orderId, OrderStatus.PendingPayment, OrderStatus.Paid, transaction, cancellationToken) is not { } order)
        {
            return false;
        }
        db.AddIntegrationEvent(orderId.ToString(), new OrderPaid(order.Id, order.UserId, order.FlashSaleId, paymentId, Lines(order), order.Total, clock.GetUtcNow()), ids, clock);
        await db.SaveChangesAsync(cancellationToken);
        // Counted once: only one settlement moves the order (inside the payment's transaction).
        telemetry.Paid(OrderingTelemetry.SourceOf(order.FlashSaleId), order.Total);
        return true;
    }

    public async Task<bool> MarkRefundedAsync(Guid orderId, DbTransaction transaction, CancellationToken cancellationToken = default)
    {
        if (await MoveAsync(orderId, OrderStatus.Paid, OrderStatus.Refunded, transaction, cancellationToken) is not { } order)
        {
            return false;
        }
        db.AddIntegrationEvent(orderId.ToString(),
            new OrderRefunded(order.Id, order.UserId, order.FlashSaleId, order.ReservationId, Lines(order), order.Total, clock.GetUtcNow()), ids, clock);
        await db.SaveChangesAsync(cancellationToken);
        return true;
    }

    private async Task<Order?> MoveAsync(Guid orderId, string from, string to, DbTransaction transaction, CancellationToken cancellationToken)
    {
        await db.JoinAsync(transaction, cancellationToken);
        var moved = await db.Orders.Where(o => o.Id == orderId && o.Status == from)
            .ExecuteUpdateAsync(s => s.SetProperty(o => o.Status, to), cancellationToken);
        return moved == 1 ? await db.Orders.AsNoTracking().SingleAsync(o => o.Id == orderId, cancellationToken) : null;
    }

    internal static OrderedLine[] Lines(Order order) => [.. order.Lines.Select(l => new OrderedLine(l.SkuId, l.ProductId, l.Quantity, l.UnitPrice))];
}
