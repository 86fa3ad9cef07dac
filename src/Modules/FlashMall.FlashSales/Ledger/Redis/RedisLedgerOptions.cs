using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace FlashMall.FlashSales.Ledger.Redis;

/// <summary><c>FlashSales:Redis:*</c>: the Redis ledger's stream reader.</summary>
internal sealed class RedisLedgerOptions
{
    public const string SectionName = "FlashSales:Redis";

    /// <summary>How long an entry may stay read but unwritten by a node before another node claims it (that node died).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan ReclaimAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the reader sleeps when every stream was empty.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:00:10")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(20);
}

[OptionsValidator]
internal sealed partial class RedisLedgerOptionsValidator : IValidateOptions<RedisLedgerOptions>;
