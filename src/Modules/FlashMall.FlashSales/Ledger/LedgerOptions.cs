using System.ComponentModel.DataAnnotations;
using FlashMall.Kernel.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlashMall.FlashSales.Ledger;

/// <summary><c>FlashSales:*</c>.</summary>
internal sealed class FlashSalesOptions
{
    public const string SectionName = "FlashSales";

    /// <summary><c>InProcess</c> or <c>Redis</c>; unset: <c>Redis</c> when <c>ConnectionStrings:Redis</c> is set (API.md).</summary>
    [RegularExpression("^(?i:inprocess|redis)$", ErrorMessage = "FlashSales:Ledger must be InProcess or Redis.")]
    public string? Ledger { get; set; }

    /// <summary>
    /// Purchase requests per client IP per minute, on top of the per-buyer limit. Generous: a
    /// carrier's NAT puts thousands of phones behind one address on a sale night.
    /// </summary>
    [Range(1, 10_000_000)]
    public int PurchasesPerIpPerMinute { get; set; } = 30_000;

    /// <summary>
    /// Where the embedded ledger keeps its journal; unset: <c>{Data:Directory}/ledger</c>. One
    /// node's own: a second node on the same folder fails to start.
    /// </summary>
    public string? JournalDirectory { get; set; }

    /// <summary>
    /// Reservations the embedded ledger may hold answered but not yet written to the database;
    /// past it, purchases get 503 with <c>Retry-After</c> until the drain catches up. About 350
    /// bytes of memory each (a million: about 350 MB, measured with trace contexts kept), and a
    /// node killed with a full backlog writes it all before it sells again. The drain yields to a
    /// rush until the backlog fills 60% of it (<see cref="PeakShaving"/>): a million lets the
    /// first 20 seconds or so of a rush at this box's rate (25–34k purchases/s) wait on disk.
    /// </summary>
    [Range(1, 10_000_000)]
    public int JournalMaxBacklog { get; set; } = 1_000_000;

    /// <summary>The journal starts a new segment past this size; a segment is deleted once all its records are in the database.</summary>
    [Range(4_096, 1L << 30)]
    public long JournalSegmentBytes { get; set; } = 4 * 1024 * 1024;
}

[OptionsValidator]
internal sealed partial class FlashSalesOptionsValidator : IValidateOptions<FlashSalesOptions>;

/// <summary><c>FlashSales:Ledger=Redis</c> without <c>ConnectionStrings:Redis</c> cannot start.</summary>
internal sealed class LedgerNeedsRedis(IConfiguration configuration) : IValidateOptions<FlashSalesOptions>
{
    public ValidateOptionsResult Validate(string? name, FlashSalesOptions options) =>
        string.Equals(options.Ledger, "Redis", StringComparison.OrdinalIgnoreCase)
        && string.IsNullOrWhiteSpace(configuration.GetConnectionString(LedgerChoice.RedisConnection))
            ? ValidateOptionsResult.Fail("FlashSales:Ledger=Redis needs ConnectionStrings:Redis.")
            : ValidateOptionsResult.Success;
}

/// <summary>Which ledger sells, decided once from configuration, and said at start-up.</summary>
internal sealed partial class LedgerChoice(IStockLedger ledger, ILogger<LedgerChoice> logger) : IStartupTask
{
    public const string RedisConnection = "Redis";

    public int Order => 0;

    /// <summary>
    /// <c>FlashSales:Ledger</c> when it says <c>Redis</c>; unset, Redis when a Redis connection is
    /// configured. Anything else is the embedded ledger (an unknown value fails validation at start).
    /// </summary>
    public static bool UsesRedis(IConfiguration configuration) =>
        configuration[$"{FlashSalesOptions.SectionName}:{nameof(FlashSalesOptions.Ledger)}"] is { Length: > 0 } ledger
            ? string.Equals(ledger, "Redis", StringComparison.OrdinalIgnoreCase)
                && !string.IsNullOrWhiteSpace(configuration.GetConnectionString(RedisConnection))
            : !string.IsNullOrWhiteSpace(configuration.GetConnectionString(RedisConnection));

    public Task RunAsync(CancellationToken cancellationToken)
    {
        LogLedger(logger, ledger is Redis.RedisLedger ? "Redis" : "InProcess");
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Flash sales sell through the {Ledger} stock ledger")]
    private static partial void LogLedger(ILogger logger, string ledger);
}
