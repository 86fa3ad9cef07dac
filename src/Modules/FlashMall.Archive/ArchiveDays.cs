using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace FlashMall.Archive;

/// <summary>Archive days are UTC calendar days; the store and the partitions name them <c>yyyy-MM-dd</c>.</summary>
internal static class ArchiveDays
{
    public static int Number(DateOnly day) => day.Year * 10_000 + day.Month * 100 + day.Day;

    public static int Number(DateTimeOffset at) => Number(DateOnly.FromDateTime(at.UtcDateTime));

    public static DateOnly Today(TimeProvider clock) => DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);

    public static DateOnly FromNumber(int number) => new(number / 10_000, number / 100 % 100, number % 100);

    public static DateTimeOffset Start(DateOnly day) => new(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);

    public static string Text(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>A strict <c>yyyy-MM-dd</c>.</summary>
    public static bool TryParse(string? text, out DateOnly day) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out day);

    /// <summary>The partition folder of a dataset's day: <c>archive/&lt;dataset&gt;/dt=YYYY-MM-DD/</c>.</summary>
    public static string Partition(string dataset, DateOnly day) => $"archive/{dataset}/dt={Text(day)}/";
}

/// <summary>Stable ids for events that carry none: the same event (the same order paid) always gets the same key.</summary>
internal static class ArchiveKeys
{
    public static Guid For(string name)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(name), hash);
        return new Guid(hash[..16]);
    }
}

/// <summary>The archive's datasets (the <c>&lt;event&gt;</c> folder of each).</summary>
internal static class Datasets
{
    public const string Orders = "orders";
    public const string Payments = "payments";
    public const string Reservations = "reservations";
    public const string Coupons = "coupons";
    public const string Searches = "searches";

    public static readonly IReadOnlyList<string> Staged = [Orders, Payments, Coupons, Searches];
    public static readonly IReadOnlyList<string> All = [Orders, Payments, Reservations, Coupons, Searches];
}
