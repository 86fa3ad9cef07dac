namespace FlashMall.Ordering.Domain;

/// <summary>
/// One SKU in a buyer's cart and how many. Only the choice is kept: the price and the stock are
/// read from the catalog whenever the cart is shown and again at checkout, never trusted from
/// the cart or the client.
/// </summary>
internal sealed class CartItem
{
    /// <summary>Units of one SKU a cart holds at most.</summary>
    public const int MaxQuantity = 99;

    /// <summary>Different SKUs a cart holds at most.</summary>
    public const int MaxLines = 50;

    private CartItem()
    {
    }

    public Guid UserId { get; private set; }
    public Guid SkuId { get; private set; }
    public int Quantity { get; private set; }
    public DateTimeOffset AddedAt { get; private set; }
    public DateTimeOffset UpdatedAt { get; private set; }

    public static CartItem Create(Guid userId, Guid skuId, int quantity, DateTimeOffset now)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(quantity);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(quantity, MaxQuantity);
        return new CartItem { UserId = userId, SkuId = skuId, Quantity = quantity, AddedAt = now, UpdatedAt = now };
    }
}
