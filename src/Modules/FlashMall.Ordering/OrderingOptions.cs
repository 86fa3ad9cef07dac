using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace FlashMall.Ordering;

/// <summary><c>Ordering:*</c>.</summary>
internal sealed class OrderingOptions
{
    public const string SectionName = "Ordering";

    /// <summary>How long a buyer has to pay an order (its <c>payBefore</c>).</summary>
    [Range(typeof(TimeSpan), "00:01:00", "1.00:00:00")]
    public TimeSpan PaymentWindow { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// How much longer an order past its <c>payBefore</c> is kept while a payment for it is under
    /// way at the provider (its webhook may be late; the payments reconciliation asks the provider).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan PaymentGrace { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How often the worker looks for new reservations when the last look found none.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan ReservationPollInterval { get; set; } = TimeSpan.FromMilliseconds(200);
}

[OptionsValidator]
internal sealed partial class OrderingOptionsValidator : IValidateOptions<OrderingOptions>;
