namespace FlashMall.Payments.Provider;

/// <summary>What we ask a provider to collect: our payment id is the merchant reference it keys its record on.</summary>
internal sealed record ProviderPaymentRequest(Guid PaymentId, long Amount, string Currency, string Description, Uri NotifyUrl);

/// <summary>The provider's record of one payment: <c>pending</c>, <c>succeeded</c>, <c>failed</c> or <c>refunded</c>.</summary>
internal sealed record ProviderPayment(Guid PaymentId, string ProviderRef, long Amount, string Currency, string Status, string? PayUrl);

/// <summary>How a call to the provider went wrong, which decides what we may conclude.</summary>
internal enum ProviderFailure
{
    /// <summary>The request never reached it (breaker open, connection refused): nothing happened there.</summary>
    NotSent,

    /// <summary>It may or may not have acted (timeout, reset, 5xx): park and ask it later.</summary>
    Unknown,

    /// <summary>It answered no (4xx).</summary>
    Refused,
}

internal sealed class PaymentProviderException(ProviderFailure failure, string message, Exception? inner = null) : Exception(message, inner)
{
    public ProviderFailure Failure { get; } = failure;
}

/// <summary>
/// The payment-provider port. Every call is idempotent on our payment id, so a retry after a lost
/// answer never charges or refunds twice. Failures are <see cref="PaymentProviderException"/>.
/// </summary>
internal interface IPaymentProvider
{
    /// <summary>Creates (or finds again) the provider's payment for this id.</summary>
    Task<ProviderPayment> CreateAsync(ProviderPaymentRequest request, CancellationToken cancellationToken);

    /// <summary>The provider's record, or null when it has none for this id.</summary>
    Task<ProviderPayment?> FindAsync(Guid paymentId, CancellationToken cancellationToken);

    /// <summary>Gives a captured payment back in full (again: no second refund).</summary>
    Task RefundAsync(Guid paymentId, long amount, CancellationToken cancellationToken);
}
