using FlashMall.Contracts.Catalog;
using FlashMall.Contracts.FlashSales;

namespace FlashMall.Archive.Export;

/// <summary>A row of <c>orders</c>: one line of one order event (an event without lines is one row with empty line columns).</summary>
internal sealed record OrderLineRow(
    string Event, Guid EventId, Guid OrderId, Guid UserId, Guid? FlashSaleId, Guid? ReservationId, Guid? PaymentId, int LineNo,
    Guid? SkuId, Guid? ProductId, ProductCategory? Category, int? Quantity, long? UnitPrice, long? LineAmount, long OrderTotal, string? Reason,
    DateTimeOffset OccurredAt);

internal sealed record PaymentRow(string Event, Guid EventId, Guid? PaymentId, Guid OrderId, Guid UserId, Guid? FlashSaleId, long Amount, DateTimeOffset OccurredAt);

internal sealed record ReservationRow(ReservationRecord Reservation, ProductCategory? Category);

internal sealed record CouponRow(string Event, Guid EventId, Guid CouponId, Guid TemplateId, Guid UserId, Guid? OrderId, long? Discount, DateTimeOffset OccurredAt);

internal sealed record SearchRow(
    Guid QueryId, string Query, Guid? CategoryId, string? Brand, string Sort, int Page, int Results, bool Degraded, Guid? UserId, DateTimeOffset OccurredAt);

/// <summary>Each dataset's columns, in file order. Changing one is a schema change: add columns at the end, never rename or retype.</summary>
internal static class DatasetSchemas
{
    private static string? Id(Guid? id) => id?.ToString();

    public static readonly IReadOnlyList<Column<OrderLineRow>> Orders =
    [
        new("event", ColumnType.String, false, r => r.Event),
        new("event_id", ColumnType.String, false, r => Id(r.EventId)),
        new("order_id", ColumnType.String, false, r => Id(r.OrderId)),
        new("user_id", ColumnType.String, false, r => Id(r.UserId)),
        new("flash_sale_id", ColumnType.String, true, r => Id(r.FlashSaleId)),
        new("reservation_id", ColumnType.String, true, r => Id(r.ReservationId)),
        new("payment_id", ColumnType.String, true, r => Id(r.PaymentId)),
        new("line_no", ColumnType.Int32, false, r => r.LineNo),
        new("sku_id", ColumnType.String, true, r => Id(r.SkuId)),
        new("product_id", ColumnType.String, true, r => Id(r.ProductId)),
        new("category_id", ColumnType.String, true, r => Id(r.Category?.CategoryId)),
        new("category_name", ColumnType.String, true, r => r.Category?.CategoryName),
        new("quantity", ColumnType.Int32, true, r => r.Quantity),
        new("unit_price", ColumnType.Int64, true, r => r.UnitPrice),
        new("line_amount", ColumnType.Int64, true, r => r.LineAmount),
        new("order_total", ColumnType.Int64, false, r => r.OrderTotal),
        new("reason", ColumnType.String, true, r => r.Reason),
        new("occurred_at", ColumnType.Timestamp, false, r => r.OccurredAt),
    ];

    public static readonly IReadOnlyList<Column<PaymentRow>> Payments =
    [
        new("event", ColumnType.String, false, r => r.Event),
        new("event_id", ColumnType.String, false, r => Id(r.EventId)),
        new("payment_id", ColumnType.String, true, r => Id(r.PaymentId)),
        new("order_id", ColumnType.String, false, r => Id(r.OrderId)),
        new("user_id", ColumnType.String, false, r => Id(r.UserId)),
        new("flash_sale_id", ColumnType.String, true, r => Id(r.FlashSaleId)),
        new("amount", ColumnType.Int64, false, r => r.Amount),
        new("occurred_at", ColumnType.Timestamp, false, r => r.OccurredAt),
    ];

    public static readonly IReadOnlyList<Column<ReservationRow>> Reservations =
    [
        new("reservation_id", ColumnType.String, false, r => Id(r.Reservation.ReservationId)),
        new("sale_id", ColumnType.String, false, r => Id(r.Reservation.SaleId)),
        new("user_id", ColumnType.String, false, r => Id(r.Reservation.UserId)),
        new("sku_id", ColumnType.String, false, r => Id(r.Reservation.SkuId)),
        new("product_id", ColumnType.String, false, r => Id(r.Reservation.ProductId)),
        new("category_id", ColumnType.String, true, r => Id(r.Category?.CategoryId)),
        new("category_name", ColumnType.String, true, r => r.Category?.CategoryName),
        new("quantity", ColumnType.Int32, false, r => r.Reservation.Quantity),
        new("sale_price", ColumnType.Int64, false, r => r.Reservation.SalePrice),
        new("amount", ColumnType.Int64, false, r => r.Reservation.SalePrice * r.Reservation.Quantity),
        new("status", ColumnType.String, false, r => r.Reservation.Status),
        new("order_id", ColumnType.String, true, r => Id(r.Reservation.OrderId)),
        new("released_reason", ColumnType.String, true, r => r.Reservation.ReleasedReason),
        new("occurred_at", ColumnType.Timestamp, false, r => r.Reservation.ReservedAt),
    ];

    public static readonly IReadOnlyList<Column<CouponRow>> Coupons =
    [
        new("event", ColumnType.String, false, r => r.Event),
        new("event_id", ColumnType.String, false, r => Id(r.EventId)),
        new("coupon_id", ColumnType.String, false, r => Id(r.CouponId)),
        new("template_id", ColumnType.String, false, r => Id(r.TemplateId)),
        new("user_id", ColumnType.String, false, r => Id(r.UserId)),
        new("order_id", ColumnType.String, true, r => Id(r.OrderId)),
        new("discount", ColumnType.Int64, true, r => r.Discount),
        new("occurred_at", ColumnType.Timestamp, false, r => r.OccurredAt),
    ];

    public static readonly IReadOnlyList<Column<SearchRow>> Searches =
    [
        new("query_id", ColumnType.String, false, r => Id(r.QueryId)),
        new("query", ColumnType.String, false, r => r.Query),
        new("category_id", ColumnType.String, true, r => Id(r.CategoryId)),
        new("brand", ColumnType.String, true, r => r.Brand),
        new("sort", ColumnType.String, false, r => r.Sort),
        new("page", ColumnType.Int32, false, r => r.Page),
        new("results", ColumnType.Int32, false, r => r.Results),
        new("degraded", ColumnType.Boolean, false, r => r.Degraded),
        new("user_id", ColumnType.String, true, r => Id(r.UserId)),
        new("occurred_at", ColumnType.Timestamp, false, r => r.OccurredAt),
    ];
}
