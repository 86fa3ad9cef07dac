using System.Text.RegularExpressions;

namespace FlashMall.Ordering.Domain;

internal static class OrderStatus
{
    public const string PendingPayment = Contracts.Ordering.OrderStates.PendingPayment;
    public const string Paid = Contracts.Ordering.OrderStates.Paid;
    public const string Shipped = "shipped";
    public const string Completed = "completed";
    public const string Cancelled = "cancelled";
    public const string Refunded = Contracts.Ordering.OrderStates.Refunded;
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

    /// <summary>Where it ships; a flash-sale order gets it after it is placed.</summary>
    public ShippingAddress? Address { get; private set; }

    /// <summary>The states in which the buyer may still give or change where the order ships.</summary>
    public static readonly string[] AddressableStatuses = [OrderStatus.PendingPayment, OrderStatus.Paid];

    public void ShipTo(ShippingAddress address) => Address = address;

    /// <summary>
    /// A regular order: its lines at the prices read at checkout, totals in fen (subtotal = Σ
    /// unit price × quantity; a coupon's discount through <see cref="Discounted"/>), frozen once placed.
    /// </summary>
    public static Order Place(Guid id, Guid userId, IReadOnlyList<OrderLine> lines, ShippingAddress address, DateTimeOffset payBefore, DateTimeOffset now)
    {
        ArgumentOutOfRangeException.ThrowIfZero(lines.Count);
        var order = new Order { Id = id, UserId = userId, PayBefore = payBefore, CreatedAt = now, Address = address };
        order._lines.AddRange(lines);
        order.Subtotal = lines.Sum(l => checked(l.UnitPrice * l.Quantity));
        order.Total = order.Subtotal;
        return order;
    }

    /// <summary>A coupon's discount, in fen, at most the subtotal: the total never goes negative.</summary>
    public void Discounted(long discount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(discount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(discount, Subtotal);
        Discount = discount;
        Total = Subtotal - Discount;
    }

    /// <summary>An order a coupon covers in full has nothing to pay: it is paid as it is placed.</summary>
    public bool PaidInFull()
    {
        if (Total != 0 || Status != OrderStatus.PendingPayment)
        {
            return false;
        }
        Status = OrderStatus.Paid;
        return true;
    }

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

/// <summary>Limits of a shipping address's fields.</summary>
internal static partial class ShippingAddressRules
{
    public const int MaxName = 50;
    public const int MaxPhone = 20;
    public const int MaxLine = 200;
    public const int MaxPostcode = 12;

    [GeneratedRegex(@"^\+?[0-9][0-9 \-]{4,18}[0-9]$")]
    public static partial Regex Phone();

    [GeneratedRegex("^[A-Za-z0-9 \\-]{2,12}$")]
    public static partial Regex Postcode();
}

/// <summary>A shipping address as the buyer gave it at checkout.</summary>
internal sealed record ShippingAddress(string Name, string Phone, string Line1, string City, string Region, string? Postcode);

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
