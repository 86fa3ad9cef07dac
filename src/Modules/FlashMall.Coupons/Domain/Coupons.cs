namespace FlashMall.Coupons.Domain;

internal static class CouponKind
{
    public const string AmountOff = "amount_off";
    public const string PercentOff = "percent_off";
}

internal static class CouponStatus
{
    public const string Unused = "unused";
    public const string Used = "used";
    public const string Expired = "expired";
}

/// <summary>
/// What a coupon is worth and who may have one: <see cref="Value"/> fen off (<c>amount_off</c>)
/// or percent off (<c>percent_off</c>, at most <see cref="MaxDiscount"/> fen when set), on orders
/// of at least <see cref="MinSpend"/> fen, <see cref="TotalQuantity"/> in all, at most
/// <see cref="PerUserLimit"/> per buyer, claimable and usable within the window.
/// <see cref="Claimed"/> counts the coupons handed out; the store refuses to pass the total.
/// <see cref="NewAccountCoolDownHours"/> (0: off) keeps accounts younger than that from claiming.
/// <see cref="CategoryIds"/> (empty: everything) limits it to lines in those categories' subtrees,
/// whose amount is then what the minimum spend and the percent apply to; <see cref="Stackable"/>
/// lets it share an order with other stackable coupons.
/// </summary>
internal sealed class CouponTemplate
{
    private CouponTemplate()
    {
    }

    public Guid Id { get; private set; }
    public string Name { get; private set; } = "";
    public string Kind { get; private set; } = CouponKind.AmountOff;
    public long Value { get; private set; }
    public long? MaxDiscount { get; private set; }
    public long MinSpend { get; private set; }
    public int TotalQuantity { get; private set; }
    public int Claimed { get; private set; }
    public int PerUserLimit { get; private set; }
    public DateTimeOffset ValidFrom { get; private set; }
    public DateTimeOffset ValidTo { get; private set; }
    public DateTimeOffset CreatedAt { get; private set; }
    public int NewAccountCoolDownHours { get; private set; }
    public List<Guid> CategoryIds { get; private set; } = [];
    public bool Stackable { get; private set; }

    public TimeSpan NewAccountCoolDown => TimeSpan.FromHours(NewAccountCoolDownHours);

    public static CouponTemplate Create(
        Guid id, string name, string kind, long value, long? maxDiscount, long minSpend, int totalQuantity, int perUserLimit,
        DateTimeOffset validFrom, DateTimeOffset validTo, int newAccountCoolDownHours, IReadOnlyList<Guid> categoryIds, bool stackable, DateTimeOffset now) =>
        new()
        {
            Id = id, Name = name, Kind = kind, Value = value, MaxDiscount = maxDiscount, MinSpend = minSpend, TotalQuantity = totalQuantity,
            PerUserLimit = perUserLimit, ValidFrom = validFrom, ValidTo = validTo, NewAccountCoolDownHours = newAccountCoolDownHours,
            CategoryIds = [.. categoryIds], Stackable = stackable, CreatedAt = now,
        };

    /// <summary>The amount of <paramref name="lines"/> this template applies to: all of it, or the lines in its categories' subtrees.</summary>
    public long EligibleAmount(IReadOnlyList<Contracts.Coupons.CouponLine> lines) => CategoryIds.Count == 0
        ? lines.Sum(l => l.Amount)
        : lines.Where(l => CategoryIds.Any(c => l.CategoryPath.Contains($"/{c:N}/", StringComparison.Ordinal))).Sum(l => l.Amount);
}

/// <summary>One buyer's coupon from a template; <c>used</c> once redeemed by an order.</summary>
internal sealed class Coupon
{
    private Coupon()
    {
    }

    public Guid Id { get; private set; }
    public Guid TemplateId { get; private set; }
    public Guid UserId { get; private set; }
    public bool Used { get; private set; }
    public Guid? OrderId { get; private set; }
    public DateTimeOffset ClaimedAt { get; private set; }

    public static Coupon Claim(Guid id, Guid templateId, Guid userId, DateTimeOffset now) =>
        new() { Id = id, TemplateId = templateId, UserId = userId, ClaimedAt = now };
}
