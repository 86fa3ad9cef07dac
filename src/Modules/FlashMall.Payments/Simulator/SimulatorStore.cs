using System.Collections.Concurrent;

namespace FlashMall.Payments.Simulator;

/// <summary>One payment as the simulated provider keeps it, keyed on the merchant's reference (our payment id).</summary>
internal sealed class SimulatedPayment(string id, Guid merchantRef, long amount, string currency, Uri notifyUrl, DateTimeOffset createdAt)
{
    public string Id { get; } = id;
    public Guid MerchantRef { get; } = merchantRef;
    public long Amount { get; } = amount;
    public string Currency { get; } = currency;
    public Uri NotifyUrl { get; } = notifyUrl;
    public DateTimeOffset CreatedAt { get; } = createdAt;

    /// <summary><c>pending</c>, <c>succeeded</c>, <c>failed</c> or <c>refunded</c>; changed under the record's lock.</summary>
    public string Status { get; set; } = "pending";
}

/// <summary>
/// The simulated provider's own records, in this process's memory (a stand-in keeps no books that
/// outlive it; the reconciliation job treats a payment the provider no longer knows as never paid).
/// </summary>
internal sealed class SimulatorStore
{
    private readonly ConcurrentDictionary<Guid, SimulatedPayment> _payments = new();

    public SimulatedPayment GetOrAdd(Guid merchantRef, Func<SimulatedPayment> create) => _payments.GetOrAdd(merchantRef, _ => create());

    public SimulatedPayment? Find(Guid merchantRef) => _payments.GetValueOrDefault(merchantRef);
}
