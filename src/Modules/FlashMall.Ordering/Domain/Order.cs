namespace FlashMall.Ordering.Domain;

internal static class OrderStatus
{
    public const string PendingPayment = "pending_payment";
    public const string Paid = "paid";
    public const string Shipped = "shipped";
    public const string Completed = "completed";
    public const string Cancelled = "cancelled";
    public const string Refunded = "refunded";
}

/// <summary>
/// An order: its lines and totals in fen, frozen when it is placed. A flash-sale order comes
/// from one reservation (unique), at the sale price, to be paid before <see cref="PayBefore"/>.
/// </summary>
internal sealed class Order
{
    private readonly List<OrderLine> _lines = [];

    private Order()
    {
    }

    public Guid Id { get; private set; }
    public Guid UserId { get; private set; }
    public string Status { get; private set; } = OrderStatus.PendingPayment;
    public long Subtotal { get; private set; }
    public long Discount { get; private set; }
    public long Total { get; private set; }
    public DateTimeOffset PayBefore { get; private set; }
    public Guid? FlashSaleId { get; private set; }
    public Guid? ReservationId { get; private set; }
    public DateTimeOffset CreatedAt { get; private set; }
    public IReadOnlyList<OrderLine> Lines => _lines;

    /// <summary>The order of a flash-sale reservation; its id is the reservation's, so one reservation can never make two orders.</summary>
    public static Order FromReservation(Guid reservationId, Guid saleId, Guid userId, Guid skuId, Guid productId, string productName,
        long unitPrice, int quantity, DateTimeOffset payBefore, DateTimeOffset now)
    {
        var order = new Order
        {
            Id = reservationId, UserId = userId, FlashSaleId = saleId, ReservationId = reservationId, PayBefore = payBefore, CreatedAt = now,
        };
        order._lines.Add(new OrderLine(1, skuId, productId, productName, unitPrice, quantity));
        order.Subtotal = checked(unitPrice * quantity);
        order.Total = order.Subtotal;
        return order;
    }
}

internal sealed class OrderLine
{
    private OrderLine()
    {
    }

    public OrderLine(int lineNo, Guid skuId, Guid productId, string productName, long unitPrice, int quantity)
    {
        LineNo = lineNo;
        SkuId = skuId;
        ProductId = productId;
        ProductName = productName;
        UnitPrice = unitPrice;
        Quantity = quantity;
    }

    /// <summary>1, 2, … within the order.</summary>
    public int LineNo { get; private set; }
    public Guid SkuId { get; private set; }
    public Guid ProductId { get; private set; }
    public string ProductName { get; private set; } = "";
    public long UnitPrice { get; private set; }
    public int Quantity { get; private set; }
}
