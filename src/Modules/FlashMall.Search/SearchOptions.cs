using Microsoft.Extensions.Options;

namespace FlashMall.Search;

/// <summary><c>Search:*</c>: which engine serves search, and where the embedded one keeps its index.</summary>
internal sealed class SearchOptions
{
    public const string SectionName = "Search";
    public const string LuceneEngine = "Lucene";

    /// <summary><c>Lucene</c> (embedded, index on local disk). The SphinxQL adapter is not built yet.</summary>
    public string Engine { get; set; } = LuceneEngine;

    /// <summary>The Lucene index's folder; empty means <c>Data:Directory</c>/search.</summary>
    public string? Directory { get; set; }

    /// <summary>Products read from the catalog per batch while (re)building the index.</summary>
    public int RebuildBatchSize { get; set; } = 1000;
}

internal sealed class SearchOptionsValidator : IValidateOptions<SearchOptions>
{
    public ValidateOptionsResult Validate(string? name, SearchOptions options)
    {
        var failures = new List<string>();
        if (!string.Equals(options.Engine, SearchOptions.LuceneEngine, StringComparison.OrdinalIgnoreCase))
        {
            failures.Add($"Search:Engine must be '{SearchOptions.LuceneEngine}' (the SphinxQL adapter is not available yet), not '{options.Engine}'.");
        }
        if (options.RebuildBatchSize is < 1 or > 100_000)
        {
            failures.Add("Search:RebuildBatchSize must be from 1 to 100000.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
