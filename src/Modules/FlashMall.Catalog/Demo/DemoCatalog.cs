using System.Security.Cryptography;
using System.Text;
using FlashMall.Catalog.Domain;
using FlashMall.Catalog.Persistence;
using FlashMall.Kernel.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlashMall.Catalog.Demo;

/// <summary>
/// A deterministic demo catalog: the same ids, names, prices and sales figures on every machine,
/// so docs, tests and bench scripts can name them. Bilingual titles, as cross-border shops write them.
/// </summary>
internal sealed partial class DemoCatalog(
    CatalogDbContext db, IOptions<DemoOptions> options, IHostEnvironment environment, TimeProvider clock, ILogger<DemoCatalog> logger) : IStartupTask
{
    public const int ProductCount = 520;

    public int Order => StartupTaskOrder.DemoCatalog;

    private sealed record Leaf(string Zh, string En, long MinPrice, long MaxPrice, string Kind);
    private sealed record Top(string Zh, string En, string[] Brands, Leaf[] Leaves);

    private static readonly Top[] Tree =
    [
        new("手机数码", "Phones & Digital", ["华为 Huawei", "小米 Xiaomi", "苹果 Apple", "荣耀 Honor", "OPPO OPPO", "vivo vivo"],
        [
            new("手机", "Phone", 99_900, 999_900, "phone"), new("耳机", "Earphones", 9_900, 199_900, "color"),
            new("智能手表", "Smartwatch", 29_900, 499_900, "color"), new("充电宝", "Power Bank", 4_900, 29_900, "color"),
        ]),
        new("电脑办公", "Computers & Office", ["联想 Lenovo", "戴尔 Dell", "华硕 ASUS", "罗技 Logitech"],
        [
            new("笔记本", "Laptop", 299_900, 1_999_900, "phone"), new("平板", "Tablet", 149_900, 899_900, "phone"),
            new("机械键盘", "Mechanical Keyboard", 19_900, 149_900, "color"), new("显示器", "Monitor", 69_900, 499_900, "spec"),
        ]),
        new("家用电器", "Home Appliances", ["美的 Midea", "格力 Gree", "九阳 Joyoung", "科沃斯 Ecovacs"],
        [
            new("电饭煲", "Rice Cooker", 19_900, 159_900, "spec"), new("空气净化器", "Air Purifier", 59_900, 399_900, "spec"),
            new("扫地机器人", "Robot Vacuum", 99_900, 599_900, "spec"),
        ]),
        new("服饰鞋包", "Fashion", ["李宁 Li-Ning", "安踏 Anta", "耐克 Nike", "优衣库 Uniqlo"],
        [
            new("T恤", "T-Shirt", 3_900, 29_900, "apparel"), new("运动鞋", "Sneakers", 19_900, 159_900, "apparel"),
            new("双肩包", "Backpack", 9_900, 69_900, "color"),
        ]),
        new("美妆个护", "Beauty & Care", ["欧莱雅 L'Oreal", "兰蔻 Lancome", "飞利浦 Philips"],
        [
            new("面霜", "Face Cream", 9_900, 199_900, "spec"), new("口红", "Lipstick", 9_900, 49_900, "color"),
            new("电动牙刷", "Electric Toothbrush", 9_900, 99_900, "color"),
        ]),
        new("食品生鲜", "Food", ["三只松鼠 Three Squirrels", "良品铺子 Bestore", "雀巢 Nestle"],
        [
            new("坚果", "Nuts", 2_900, 19_900, "spec"), new("茶叶", "Tea", 4_900, 99_900, "spec"), new("咖啡", "Coffee", 3_900, 29_900, "spec"),
        ]),
        new("母婴玩具", "Baby & Toys", ["帮宝适 Pampers", "乐高 LEGO", "好孩子 Goodbaby"],
        [
            new("纸尿裤", "Diapers", 5_900, 29_900, "spec"), new("积木", "Building Blocks", 9_900, 199_900, "spec"),
        ]),
        new("运动户外", "Sports & Outdoors", ["迪卡侬 Decathlon", "李宁 Li-Ning", "牧高笛 Mobigarden"],
        [
            new("瑜伽垫", "Yoga Mat", 3_900, 29_900, "color"), new("跑步机", "Treadmill", 99_900, 599_900, "spec"),
            new("帐篷", "Tent", 19_900, 199_900, "spec"),
        ]),
    ];

    private static readonly string[] Series = ["Pro", "Max", "Lite", "Plus", "Air", "Mini", "Ultra", "Neo", "SE", "X"];
    private static readonly string[] Colors = ["黑色 Black", "白色 White", "蓝色 Blue", "红色 Red", "银色 Silver"];
    private static readonly string[] Storage = ["128GB", "256GB", "512GB", "1TB"];
    private static readonly string[] Sizes = ["S", "M", "L", "XL", "XXL"];
    private static readonly string[] Specs = ["标准版 Standard", "豪华版 Deluxe", "家庭装 Family Pack", "礼盒装 Gift Box"];

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.ShouldSeed(environment) || await db.Categories.AnyAsync(cancellationToken))
        {
            return;
        }

        var now = clock.GetUtcNow();
        var random = new Random(20261126);
        var leaves = new List<(Category Category, Top Top, Leaf Leaf)>();
        for (var t = 0; t < Tree.Length; t++)
        {
            var top = Category.Create(Id("category", t, -1), null, $"{Tree[t].Zh} {Tree[t].En}", t);
            db.Categories.Add(top);
            for (var l = 0; l < Tree[t].Leaves.Length; l++)
            {
                var leaf = Category.Create(Id("category", t, l), top, $"{Tree[t].Leaves[l].Zh} {Tree[t].Leaves[l].En}", l);
                db.Categories.Add(leaf);
                leaves.Add((leaf, Tree[t], Tree[t].Leaves[l]));
            }
        }

        for (var i = 0; i < ProductCount; i++)
        {
            // Products 0 and 1 are phones, so the demo flash sales sell something people queue for.
            var (category, top, leaf) = i < 2 ? leaves[0] : leaves[random.Next(leaves.Count)];
            var brand = top.Brands[i < 2 ? i : random.Next(top.Brands.Length)];
            var (brandZh, brandEn) = Split(brand);
            var model = $"{Series[random.Next(Series.Length)]} {random.Next(2, 80)}";
            var basePrice = RoundPrice(leaf.MinPrice + (long)(random.NextDouble() * (leaf.MaxPrice - leaf.MinPrice)));
            // Sales follow a long tail: a few best sellers, many quiet products.
            var sales = (long)(Math.Pow(random.NextDouble(), 4) * 100_000);
            var draft = new ProductDraft(
                $"{brandZh}{leaf.Zh} {model} {brandEn} {leaf.En}",
                $"{brandZh} {model} {leaf.Zh}，正品行货，全国联保。{brandEn} {model} {leaf.En.ToLowerInvariant()}, genuine with nationwide warranty.",
                category.Id, brandEn, [], Skus(i, leaf, basePrice, random));
            var skuIndex = 0;
            db.Products.Add(Product.Create(Id("product", i, -1), draft, () => Id("sku", i, skuIndex++), now.AddMinutes(-i), sales));
        }

        await db.SaveChangesAsync(cancellationToken);
        LogSeeded(logger, ProductCount);
    }

    private static SkuDraft[] Skus(int product, Leaf leaf, long basePrice, Random random)
    {
        var variants = leaf.Kind switch
        {
            "phone" => Pick(random, Colors, 2).SelectMany(c => Storage.Take(2).Select((s, n) => (new Dictionary<string, string> { ["颜色 Color"] = c, ["存储 Storage"] = s }, n))),
            "apparel" => Pick(random, Colors, 2).SelectMany(c => Sizes.Take(3).Select((s, n) => (new Dictionary<string, string> { ["颜色 Color"] = c, ["尺码 Size"] = s }, n))),
            "color" => Pick(random, Colors, 3).Select(c => (new Dictionary<string, string> { ["颜色 Color"] = c }, 0)),
            _ => Specs.Take(2 + random.Next(2)).Select((s, n) => (new Dictionary<string, string> { ["规格 Spec"] = s }, n)),
        };
        return [.. variants.Select((v, index) => new SkuDraft(
            $"FM{product:D4}-{index + 1:D2}",
            RoundPrice(basePrice + (v.Item2 * basePrice / 5)),
            product < 2 ? 1_000 : 50 + random.Next(2_000),
            v.Item1))];
    }

    private static IEnumerable<string> Pick(Random random, string[] values, int count) => values.OrderBy(_ => random.Next()).Take(count);

    /// <summary>Prices end in 00 fen, like shelf prices (¥1,299.00).</summary>
    private static long RoundPrice(long fen) => Math.Max(100, fen / 100 * 100);

    private static (string Zh, string En) Split(string brand)
    {
        var space = brand.IndexOf(' ', StringComparison.Ordinal);
        return (brand[..space], brand[(space + 1)..]);
    }

    /// <summary>A stable id per demo row (a name-based UUID), the same on every machine.</summary>
    internal static Guid Id(string kind, int a, int b)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"flashmall-demo:{kind}:{a}:{b}"));
        hash[6] = (byte)((hash[6] & 0x0F) | 0x80); // version 8: custom
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80); // RFC 4122 variant
        return new Guid(hash.AsSpan(0, 16), bigEndian: true);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Seeded the demo catalog: {Count} products")]
    private static partial void LogSeeded(ILogger logger, int count);
}
