using System.Data.Common;
using FlashMall.Contracts.Coupons;
using FlashMall.Contracts.Ordering;
using FlashMall.Coupons.Domain;
using FlashMall.Kernel.Hosting;
using FlashMall.Kernel.Messaging;
using FlashMall.Kernel.Persistence;
using Microsoft.EntityFrameworkCore;

namespace FlashMall.Coupons.Persistence;

/// <summary>
/// Redeems coupons at checkout, in the order's transaction; a conditional update marks a coupon
/// used once, and <see cref="CouponRedeemed"/> goes to the Coupons outbox on that same transaction.
/// </summary>
internal sealed class CouponRedemption(CouponsDbContext db, IIdGenerator ids, TimeProvider clock) : ICouponRedemption
{
    public async Task<long?> TryRedeemAsync(IReadOnlyList<Guid> couponIds, Guid userId, Guid orderId, IReadOnlyList<CouponLine> lines,
        DbTransaction transaction, CancellationToken cancellationToken = default)
    {
        if (couponIds.Count == 0 || couponIds.Distinct().Count() != couponIds.Count)
        {
            return null;
        }
        // Join the caller's transaction: this moves with the order or not at all.
        await db.JoinAsync(transaction, cancellationToken);
        var now = clock.GetUtcNow();
        var found = await db.Coupons.AsNoTracking()
            .Where(c => couponIds.Contains(c.Id) && c.UserId == userId && !c.Used)
            .Join(db.Templates, c => c.TemplateId, t => t.Id, (c, t) => new { CouponId = c.Id, Template = t })
            .ToListAsync(cancellationToken);
        if (found.Count != couponIds.Count || (found.Count > 1 && found.Any(f => !f.Template.Stackable)))
        {
            return null;
        }
        var subtotal = lines.Sum(l => l.Amount);
        var total = 0L;
        // In the order the buyer gave them; each takes at most what the ones before it left.
        foreach (var (couponId, template) in couponIds.Select(id => found.Single(f => f.CouponId == id)).Select(f => (f.CouponId, f.Template)))
        {
            var eligible = template.EligibleAmount(lines);
            if (now < template.ValidFrom || now >= template.ValidTo || eligible == 0 || eligible < template.MinSpend)
            {
                return null;
            }
            var discount = Math.Min(Discount(template, eligible), subtotal - total);
            var redeemed = await db.Coupons.Where(c => c.Id == couponId && c.UserId == userId && !c.Used)
                .ExecuteUpdateAsync(s => s.SetProperty(c => c.Used, true).SetProperty(c => c.OrderId, orderId), cancellationToken);
            if (redeemed != 1)
            {
                return null;
            }
            db.AddIntegrationEvent(couponId.ToString(), new CouponRedeemed(couponId, template.Id, userId, orderId, discount, now), ids, clock);
            total += discount;
        }
        await db.SaveChangesAsync(cancellationToken);
        return total;
    }

    /// <summary>
    /// Fen off a subtotal: <c>amount_off</c> its value; <c>percent_off</c> ⌊subtotal × percent / 100⌋
    /// (integer arithmetic, so it rounds down to the fen, the same way every time), then capped by
    /// <c>maxDiscount</c>; never more than the subtotal, so a total is never negative.
    /// </summary>
    public static long Discount(CouponTemplate template, long subtotal)
    {
        var off = template.Kind == CouponKind.PercentOff ? checked(subtotal * template.Value) / 100 : template.Value;
        if (template.MaxDiscount is { } cap)
        {
            off = Math.Min(off, cap);
        }
        return Math.Clamp(off, 0, subtotal);
    }
}

/// <summary>
/// A cancelled order's coupon is the buyer's to use again (once, whatever is redelivered), and
/// <see cref="CouponReleased"/> says so, in the consumer's transaction.
/// </summary>
internal sealed class ReleaseCouponOnOrderCancelled(CouponsDbContext db, IIdGenerator ids, TimeProvider clock) : IIntegrationEventConsumer<OrderCancelled>
{
    public const string Consumer = "coupons.release-on-order-cancelled";

    public async Task ConsumeAsync(OrderCancelled cancelled, CancellationToken cancellationToken)
    {
        var held = await db.Coupons.AsNoTracking().Where(c => c.OrderId == cancelled.OrderId && c.Used)
            .Select(c => new { c.Id, c.TemplateId, c.UserId }).ToListAsync(cancellationToken);
        foreach (var coupon in held)
        {
            var released = await db.Coupons.Where(c => c.Id == coupon.Id && c.OrderId == cancelled.OrderId && c.Used)
                .ExecuteUpdateAsync(s => s.SetProperty(c => c.Used, false).SetProperty(c => c.OrderId, (Guid?)null), cancellationToken);
            if (released == 1)
            {
                db.AddIntegrationEvent(coupon.Id.ToString(),
                    new CouponReleased(coupon.Id, coupon.TemplateId, coupon.UserId, cancelled.OrderId, clock.GetUtcNow()), ids, clock);
            }
        }
        await db.SaveChangesAsync(cancellationToken);
    }
}
