using System.Text.Json;
using FlashMall.Archive.Persistence;
using FlashMall.Contracts.Coupons;
using FlashMall.Contracts.Ordering;
using FlashMall.Kernel.Messaging;
using Microsoft.EntityFrameworkCore;

namespace FlashMall.Archive.Staging;

/// <summary>Adds a staged row to the consumer's context (saved in the dispatcher's transaction), unless the same event is already staged.</summary>
internal sealed class Stager(ArchiveDbContext db, TimeProvider clock)
{
    public async Task StageAsync(string name, string dataset, DateTimeOffset occurredAt, object row, CancellationToken cancellationToken)
    {
        var key = ArchiveKeys.For(name);
        if (db.StagedEvents.Local.Any(e => e.EventKey == key) || await db.StagedEvents.AnyAsync(e => e.EventKey == key, cancellationToken))
        {
            return; // told twice (another message id for the same fact): staged once
        }
        db.StagedEvents.Add(StagedEvent.Create(key, dataset, occurredAt, JsonSerializer.Serialize(row, row.GetType()), clock.GetUtcNow()));
    }
}

/// <summary>Orders placed, paid, cancelled and refunded, and the payments of paid and refunded orders, staged for the archive.</summary>
internal sealed class StageOrderEvents(Stager stager)
    : IIntegrationEventConsumer<OrderPlaced>, IIntegrationEventConsumer<OrderPaid>, IIntegrationEventConsumer<OrderCancelled>, IIntegrationEventConsumer<OrderRefunded>
{
    public const string PlacedConsumer = "archive.order-placed";
    public const string PaidConsumer = "archive.order-paid";
    public const string CancelledConsumer = "archive.order-cancelled";
    public const string RefundedConsumer = "archive.order-refunded";

    public Task ConsumeAsync(OrderPlaced placed, CancellationToken cancellationToken) =>
        stager.StageAsync($"orders:placed:{placed.OrderId}", Datasets.Orders, placed.PlacedAt,
            new StagedOrder("placed", placed.OrderId, placed.UserId, null, null, null, placed.Lines, placed.Total, null), cancellationToken);

    public async Task ConsumeAsync(OrderPaid paid, CancellationToken cancellationToken)
    {
        // A free order (a coupon covered it) is paid without a payment.
        Guid? payment = paid.PaymentId == Guid.Empty ? null : paid.PaymentId;
        await stager.StageAsync($"orders:paid:{paid.OrderId}", Datasets.Orders, paid.PaidAt,
            new StagedOrder("paid", paid.OrderId, paid.UserId, paid.FlashSaleId, null, payment, paid.Lines, paid.Total, null), cancellationToken);
        if (payment is not null)
        {
            await stager.StageAsync($"payments:captured:{payment}", Datasets.Payments, paid.PaidAt,
                new StagedPayment("captured", payment, paid.OrderId, paid.UserId, paid.FlashSaleId, paid.Total), cancellationToken);
        }
    }

    public Task ConsumeAsync(OrderCancelled cancelled, CancellationToken cancellationToken) =>
        stager.StageAsync($"orders:cancelled:{cancelled.OrderId}", Datasets.Orders, cancelled.CancelledAt,
            new StagedOrder("cancelled", cancelled.OrderId, cancelled.UserId, cancelled.FlashSaleId, cancelled.ReservationId, null,
                cancelled.Lines, cancelled.Lines?.Sum(l => l.UnitPrice * l.Quantity) ?? 0, cancelled.Reason), cancellationToken);

    public async Task ConsumeAsync(OrderRefunded refunded, CancellationToken cancellationToken)
    {
        await stager.StageAsync($"orders:refunded:{refunded.OrderId}", Datasets.Orders, refunded.RefundedAt,
            new StagedOrder("refunded", refunded.OrderId, refunded.UserId, refunded.FlashSaleId, refunded.ReservationId, null,
                refunded.Lines, refunded.Total, null), cancellationToken);
        if (refunded.Total > 0)
        {
            await stager.StageAsync($"payments:refunded:{refunded.OrderId}", Datasets.Payments, refunded.RefundedAt,
                new StagedPayment("refunded", null, refunded.OrderId, refunded.UserId, refunded.FlashSaleId, refunded.Total), cancellationToken);
        }
    }
}

/// <summary>Coupons claimed, redeemed and released, staged for the archive.</summary>
internal sealed class StageCouponEvents(Stager stager)
    : IIntegrationEventConsumer<CouponClaimed>, IIntegrationEventConsumer<CouponRedeemed>, IIntegrationEventConsumer<CouponReleased>
{
    public const string ClaimedConsumer = "archive.coupon-claimed";
    public const string RedeemedConsumer = "archive.coupon-redeemed";
    public const string ReleasedConsumer = "archive.coupon-released";

    public Task ConsumeAsync(CouponClaimed claimed, CancellationToken cancellationToken) =>
        stager.StageAsync($"coupons:claimed:{claimed.CouponId}", Datasets.Coupons, claimed.ClaimedAt,
            new StagedCoupon("claimed", claimed.CouponId, claimed.TemplateId, claimed.UserId, null, null), cancellationToken);

    public Task ConsumeAsync(CouponRedeemed redeemed, CancellationToken cancellationToken) =>
        stager.StageAsync($"coupons:redeemed:{redeemed.CouponId}:{redeemed.OrderId}", Datasets.Coupons, redeemed.RedeemedAt,
            new StagedCoupon("redeemed", redeemed.CouponId, redeemed.TemplateId, redeemed.UserId, redeemed.OrderId, redeemed.Discount), cancellationToken);

    public Task ConsumeAsync(CouponReleased released, CancellationToken cancellationToken) =>
        stager.StageAsync($"coupons:released:{released.CouponId}:{released.OrderId}", Datasets.Coupons, released.ReleasedAt,
            new StagedCoupon("released", released.CouponId, released.TemplateId, released.UserId, released.OrderId, null), cancellationToken);
}
