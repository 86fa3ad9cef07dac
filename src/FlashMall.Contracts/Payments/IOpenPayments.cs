namespace FlashMall.Contracts.Payments;

/// <summary>
/// The Payments module's answer to Ordering's payment deadline: which orders have a payment under
/// way (an intent the provider holds, or one whose outcome is not known yet), so a buyer who paid
/// in time is not cancelled because the provider's webhook is late.
/// </summary>
public interface IOpenPayments
{
    /// <summary>Those of <paramref name="orderIds"/> with a payment still under way.</summary>
    Task<IReadOnlySet<Guid>> UnderWayAsync(IReadOnlyCollection<Guid> orderIds, CancellationToken cancellationToken = default);
}
