using System.ComponentModel.DataAnnotations;
using FlashMall.Kernel.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlashMall.FlashSales.Ledger;

/// <summary><c>FlashSales:*</c>.</summary>
internal sealed class FlashSalesOptions
{
    public const string SectionName = "FlashSales";

    /// <summary><c>InProcess</c> or <c>Redis</c> (API.md); the Redis ledger is not built yet.</summary>
    [RegularExpression("^(?i:inprocess|redis)$", ErrorMessage = "FlashSales:Ledger must be InProcess or Redis.")]
    public string? Ledger { get; set; }

    /// <summary>
    /// Purchase requests per client IP per minute, on top of the per-buyer limit. Generous: a
    /// carrier's NAT puts thousands of phones behind one address on a sale night.
    /// </summary>
    [Range(1, 10_000_000)]
    public int PurchasesPerIpPerMinute { get; set; } = 30_000;
}

[OptionsValidator]
internal sealed partial class FlashSalesOptionsValidator : IValidateOptions<FlashSalesOptions>;

/// <summary>Says at start-up which ledger sells, so an operator who asked for Redis is not misled.</summary>
internal sealed partial class LedgerChoice(IOptions<FlashSalesOptions> options, ILogger<LedgerChoice> logger) : IStartupTask
{
    public int Order => 0;

    public Task RunAsync(CancellationToken cancellationToken)
    {
        if (string.Equals(options.Value.Ledger, "Redis", StringComparison.OrdinalIgnoreCase))
        {
            LogRedisNotYet(logger);
        }
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "FlashSales:Ledger=Redis is not available yet: the in-process ledger sells, with the database deciding every reservation (safe on several nodes, but each node counts on its own)")]
    private static partial void LogRedisNotYet(ILogger logger);
}
