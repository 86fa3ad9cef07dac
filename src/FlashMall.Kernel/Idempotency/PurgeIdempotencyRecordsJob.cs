using FlashMall.Kernel.Persistence;
using FlashMall.Kernel.Scheduling;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlashMall.Kernel.Idempotency;

/// <summary><c>Idempotency:*</c>: how long answers to <c>Idempotency-Key</c> requests are kept.</summary>
public sealed class IdempotencyOptions
{
    public const string SectionName = "Idempotency";

    /// <summary>API.md promises at least 24 hours.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromHours(48);
}

internal sealed class IdempotencyOptionsValidator : IValidateOptions<IdempotencyOptions>
{
    public ValidateOptionsResult Validate(string? name, IdempotencyOptions options) =>
        options.Retention >= TimeSpan.FromHours(24)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail("Idempotency:Retention must be at least 24 hours (API.md keeps keys at least 24 h).");
}

/// <summary>Deletes idempotency records older than the retention, in every module store that keeps them.</summary>
internal sealed partial class PurgeIdempotencyRecordsJob(
    IServiceProvider services, IEnumerable<ModuleDbContextRegistration> modules, IOptions<IdempotencyOptions> options, TimeProvider clock,
    ILogger<PurgeIdempotencyRecordsJob> logger) : IScheduledJob
{
    public const string Name = "kernel.purge-idempotency-records";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var cutoff = clock.GetUtcNow() - options.Value.Retention;
        foreach (var (db, schema) in modules.Holding<IdempotencyRecord>(services))
        {
            var deleted = await db.Set<IdempotencyRecord>().Where(r => r.CreatedAt < cutoff).ExecuteDeleteAsync(cancellationToken);
            LogPurged(logger, schema, deleted);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Purged {Count} idempotency records from {Schema}")]
    private static partial void LogPurged(ILogger logger, string schema, int count);
}
