using FlashMall.Contracts.Catalog;
using FlashMall.Kernel.Persistence;
using FlashMall.Search;
using FlashMall.Search.Domain;
using FlashMall.Search.Lucene;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace FlashMall.UnitTests.Search;

/// <summary>The embedded index merges itself back to one segment after writes (each write commits one).</summary>
public sealed class LuceneCompactionTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "flashmall-compaction-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task A_small_index_is_merged_to_one_segment_after_a_burst_of_writes_and_finds_every_product()
    {
        using var index = Index(new SearchOptions { CompactAfter = TimeSpan.FromSeconds(2) }); // long enough that the three writes come first
        var products = new[] { Product("华为手机"), Product("手机 case"), Product("Phone stand") };
        foreach (var product in products)
        {
            await index.UpsertAsync([product], CancellationToken.None);
        }
        Assert.Equal(3, index.SegmentCount()); // one commit, one segment
        Assert.Equal(2, (await index.SearchAsync(new SearchQuery("手机", null, null, null, null, SearchSort.Relevance, 0, 10), CancellationToken.None)).Total); // before the merge too

        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (index.SegmentCount() > 1 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Equal(1, index.SegmentCount());
        var phones = await index.SearchAsync(new SearchQuery("手机", null, null, null, null, SearchSort.Relevance, 0, 10), CancellationToken.None);
        Assert.Equal(products.Take(2).Select(p => p.Id).Order(), phones.Items.Select(hit => hit.Id).Order());
        var stand = await index.SearchAsync(new SearchQuery("stand", null, null, null, null, SearchSort.Relevance, 0, 10), CancellationToken.None);
        Assert.Equal(products[2].Id, Assert.Single(stand.Items).Id);

        // A write after the merge gets its own segment again, and the next merge takes it in.
        await index.UpsertAsync([Product("华为手机 Pro")], CancellationToken.None);
        Assert.Equal(2, index.SegmentCount());
        deadline = DateTime.UtcNow.AddSeconds(15);
        while (index.SegmentCount() > 1 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        Assert.Equal(1, index.SegmentCount());
        Assert.Equal(3, (await index.SearchAsync(new SearchQuery("手机", null, null, null, null, SearchSort.Relevance, 0, 10), CancellationToken.None)).Total);
    }

    [Theory]
    [InlineData(0, 300)] // turned off
    [InlineData(16, 60_000)] // not yet: the merge waits for the burst to end
    public async Task No_merge_when_it_is_off_or_not_due(int belowMegabytes, int afterMilliseconds)
    {
        using var index = Index(new SearchOptions { CompactBelowMegabytes = belowMegabytes, CompactAfter = TimeSpan.FromMilliseconds(afterMilliseconds) });
        for (var i = 0; i < 3; i++)
        {
            await index.UpsertAsync([Product($"product {i}")], CancellationToken.None);
        }

        await Task.Delay(1500);

        Assert.Equal(3, index.SegmentCount());
    }

    [Theory]
    [InlineData(-1, 5)]
    [InlineData(1025, 5)]
    [InlineData(16, -1)]
    [InlineData(16, 3601)]
    public void Out_of_range_compaction_settings_are_refused_at_start_up(int belowMegabytes, int afterSeconds)
    {
        var result = new SearchOptionsValidator().Validate(null, new SearchOptions { CompactBelowMegabytes = belowMegabytes, CompactAfter = TimeSpan.FromSeconds(afterSeconds) });
        Assert.True(result.Failed);
    }

    private LuceneSearchIndex Index(SearchOptions options)
    {
        options.Directory = _folder;
        return new LuceneSearchIndex(Options.Create(options), Options.Create(new DataOptions { Directory = _folder }), NullLogger<LuceneSearchIndex>.Instance);
    }

    private static SearchableProduct Product(string name) => new(
        Guid.NewGuid(), name, "", "FlashMall", Guid.NewGuid(), [], [], [], 1999, 0, 10, null, true, DateTimeOffset.UnixEpoch);

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }
}
