namespace FlashMall.Payments.Domain;

/// <summary>
/// Where a payment intent stands. <c>creating</c>, <c>pending</c> and <c>unknown</c> are active (at
/// most one per order); <c>succeeded</c> is a capture; <c>refund_due</c> is a capture the order
/// could not take (it was cancelled, or another payment paid it) and is given back by the
/// reconciliation job; <c>refunding → refunded</c> gives money back.
/// </summary>
internal static class PaymentStatus
{
    /// <summary>Recorded, the provider not yet asked (or the asking node died).</summary>
    public const string Creating = "creating";

    /// <summary>The provider holds it; the buyer has not paid yet.</summary>
    public const string Pending = "pending";

    /// <summary>Parked: the provider's answer was lost (timeout, reset); the reconciliation job asks the provider.</summary>
    public const string Unknown = "unknown";

    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string RefundDue = "refund_due";
    public const string Refunding = "refunding";
    public const string Refunded = "refunded";

    /// <summary>The provider refused the refund for good: an operator settles it by hand (logged at Error).</summary>
    public const string RefundFailed = "refund_failed";

    /// <summary>The intent a new request for the order reuses instead of making a second one.</summary>
    public static readonly string[] Active = [Creating, Pending, Unknown];

    /// <summary>A capture at the provider may still arrive for these.</summary>
    public static readonly string[] Capturable = [Creating, Pending, Unknown, Failed];

    /// <summary>Failures after which the provider may still hold a payment the buyer can complete (not ones it never saw).</summary>
    public static readonly string[] CompletableFailures = ["declined"];
}

/// <summary>
/// A payment intent: one attempt to collect an order's total, in fen, through a provider. Its id
/// is the merchant reference the provider keys its own record on, so asking the provider again
/// for the same intent never makes a second charge.
/// </summary>
internal sealed class Payment
{
    private Payment()
    {
    }

    public Guid Id { get; private set; }
    public Guid OrderId { get; private set; }
    public Guid UserId { get; private set; }
    public long Amount { get; private set; }
    public string Currency { get; private set; } = "CNY";
    public string Method { get; private set; } = "";
    public string Status { get; private set; } = PaymentStatus.Creating;

    /// <summary>The provider's own id for it, once it answered.</summary>
    public string? ProviderRef { get; private set; }

    /// <summary>Where the buyer pays, as the provider gave it.</summary>
    public string? PayUrl { get; private set; }

    /// <summary>Why it failed or was parked (<c>provider_unavailable</c>, <c>provider_timeout</c>, <c>declined</c> …).</summary>
    public string? Reason { get; private set; }

    public DateTimeOffset CreatedAt { get; private set; }
    public DateTimeOffset UpdatedAt { get; private set; }

    public static Payment Create(Guid id, Guid orderId, Guid userId, long amount, string method, DateTimeOffset now) => new()
    {
        Id = id, OrderId = orderId, UserId = userId, Amount = amount, Method = method, CreatedAt = now, UpdatedAt = now,
    };
}

/// <summary>A provider event already acted on: its id is the key, written in the same transaction as its effect.</summary>
internal sealed class ProcessedWebhookEvent
{
    private ProcessedWebhookEvent()
    {
    }

    public ProcessedWebhookEvent(string eventId, string type, Guid paymentId, DateTimeOffset receivedAt)
    {
        EventId = eventId;
        Type = type;
        PaymentId = paymentId;
        ReceivedAt = receivedAt;
    }

    public string EventId { get; private set; } = "";
    public string Type { get; private set; } = "";
    public Guid PaymentId { get; private set; }
    public DateTimeOffset ReceivedAt { get; private set; }
}
