namespace FlashMall.FlashSales.Domain;

/// <summary>
/// A flash sale: <see cref="Quantity"/> units of one SKU at <see cref="SalePrice"/> within a window,
/// at most <see cref="PerUserLimit"/> per buyer. The units were taken out of the SKU's free stock
/// when the sale was created. Its status (upcoming, live, ended) follows from the clock.
/// </summary>
internal sealed class SaleEvent
{
    private SaleEvent()
    {
    }

    public Guid Id { get; private set; }
    public Guid SkuId { get; private set; }
    public Guid ProductId { get; private set; }
    public string Name { get; private set; } = "";
    public long SalePrice { get; private set; }
    public long OriginalPrice { get; private set; }
    public int Quantity { get; private set; }
    public int PerUserLimit { get; private set; }
    public DateTimeOffset StartsAt { get; private set; }
    public DateTimeOffset EndsAt { get; private set; }
    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>Units held by reservations that are not released: the database's word on stock (never above <see cref="Quantity"/>).</summary>
    public int Reserved { get; private set; }

    /// <summary>What buyers see: upcoming, live, sold_out or ended.</summary>
    public string StatusAt(DateTimeOffset now, int remaining) =>
        now < StartsAt ? SaleStatus.Upcoming
        : now >= EndsAt ? SaleStatus.Ended
        : remaining <= 0 ? SaleStatus.SoldOut
        : SaleStatus.Live;

    public static SaleEvent Create(
        Guid id, Guid skuId, Guid productId, string name, long salePrice, long originalPrice, int quantity, int perUserLimit,
        DateTimeOffset startsAt, DateTimeOffset endsAt, DateTimeOffset now)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(quantity);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(perUserLimit);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(endsAt, startsAt);
        return new SaleEvent
        {
            Id = id, SkuId = skuId, ProductId = productId, Name = name, SalePrice = salePrice, OriginalPrice = originalPrice,
            Quantity = quantity, PerUserLimit = perUserLimit, StartsAt = startsAt, EndsAt = endsAt, CreatedAt = now,
        };
    }
}

internal static class SaleStatus
{
    public const string Upcoming = "upcoming";
    public const string Live = "live";
    public const string SoldOut = "sold_out";
    public const string Ended = "ended";
}
