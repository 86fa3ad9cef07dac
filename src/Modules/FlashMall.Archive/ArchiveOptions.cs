using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace FlashMall.Archive;

internal static class ArchiveStores
{
    public const string FileSystem = "FileSystem";
    public const string S3 = "S3";
}

/// <summary><c>Archive:*</c>: the business archive (daily Parquet files of the day's business events).</summary>
internal sealed class ArchiveOptions
{
    public const string SectionName = "Archive";

    /// <summary><c>FileSystem</c> (files under <c>Data:Directory</c>) or <c>S3</c> (<see cref="S3"/>).</summary>
    public string Store { get; set; } = ArchiveStores.FileSystem;

    /// <summary>
    /// How long staged rows stay after their day was written (so a re-run of the day rewrites the same
    /// files from the same rows); older exported rows are deleted by <c>archive.daily</c>.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "90.00:00:00")]
    public TimeSpan StagingRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Rows per Parquet file (one row group each): a day with more rows gets <c>part-1</c>, <c>part-2</c> ….</summary>
    [Range(1, 10_000_000)]
    public int RowsPerFile { get; set; } = 500_000;

    /// <summary>Search queries waiting in memory for the staging table; beyond this they are dropped (counted in the log).</summary>
    [Range(16, 1_000_000)]
    public int SearchQueueCapacity { get; set; } = 10_000;

    /// <summary>How long an archive report's DuckDB query may run before it is interrupted (504 <c>archive_query_timeout</c>).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan QueryTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest date range one report may cover, in days.</summary>
    [Range(1, 3660)]
    public int MaxReportDays { get; set; } = 366;

    /// <summary>DuckDB's memory limit for a report, e.g. <c>512MB</c>.</summary>
    [Required, RegularExpression(@"^\d+(KB|MB|GB)$")]
    public string QueryMemoryLimit { get; set; } = "512MB";

    /// <summary><c>Archive:S3:*</c>, read when <see cref="Store"/> is <c>S3</c>.</summary>
    public ArchiveS3Options S3 { get; set; } = new();
}

/// <summary><c>Archive:S3:*</c>: an S3-compatible bucket (as <c>Media:S3:*</c>).</summary>
internal sealed class ArchiveS3Options
{
    /// <summary>The endpoint of an S3-compatible server, e.g. <c>http://127.0.0.1:9000</c>; empty: AWS in <see cref="Region"/>.</summary>
    public string? ServiceUrl { get; set; }

    public string Bucket { get; set; } = "";

    public string Region { get; set; } = "us-east-1";

    public string? AccessKey { get; set; }

    public string? SecretKey { get; set; }

    /// <summary>Prefix before <c>archive/…</c> in every key, e.g. <c>prod/</c>; empty by default.</summary>
    public string Prefix { get; set; } = "";

    public bool ForcePathStyle { get; set; } = true;
}

[OptionsValidator]
internal sealed partial class ArchiveOptionsDataValidator : IValidateOptions<ArchiveOptions>;

/// <summary>The choices: a typo must stop the node, not archive nowhere.</summary>
internal sealed class ArchiveOptionsValidator : IValidateOptions<ArchiveOptions>
{
    public ValidateOptionsResult Validate(string? name, ArchiveOptions options)
    {
        var failures = new List<string>();
        if (options.Store is not (ArchiveStores.FileSystem or ArchiveStores.S3))
        {
            failures.Add($"Archive:Store must be {ArchiveStores.FileSystem} or {ArchiveStores.S3}, not '{options.Store}'.");
        }
        if (options.Store == ArchiveStores.S3)
        {
            if (string.IsNullOrWhiteSpace(options.S3.Bucket))
            {
                failures.Add("Archive:S3:Bucket is required when Archive:Store is S3.");
            }
            if (!string.IsNullOrEmpty(options.S3.ServiceUrl) && !Uri.TryCreate(options.S3.ServiceUrl, UriKind.Absolute, out _))
            {
                failures.Add($"Archive:S3:ServiceUrl must be an absolute URL, not '{options.S3.ServiceUrl}'.");
            }
            if (string.IsNullOrEmpty(options.S3.AccessKey) != string.IsNullOrEmpty(options.S3.SecretKey))
            {
                failures.Add("Archive:S3:AccessKey and Archive:S3:SecretKey go together (or neither, for the SDK's default credentials).");
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
