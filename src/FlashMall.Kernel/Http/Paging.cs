using System.Reflection;
using Microsoft.AspNetCore.Http;

namespace FlashMall.Kernel.Http;

/// <summary><c>page</c> (from 1) and <c>pageSize</c> (1–100, default 20), bound from the query string.</summary>
public readonly record struct PageRequest(int Page, int PageSize)
{
    public const int DefaultPageSize = 20;
    public const int MaxPageSize = 100;

    public int Skip => (Page - 1) * PageSize;

    /// <summary>Minimal API binding: a missing value takes the default, a size over the cap is capped, garbage is 400.</summary>
    public static ValueTask<PageRequest> BindAsync(HttpContext context, ParameterInfo parameter)
    {
        var page = Parse(context.Request.Query["page"], 1, "page");
        var size = Parse(context.Request.Query["pageSize"], DefaultPageSize, "pageSize");
        return ValueTask.FromResult(new PageRequest(page, Math.Min(size, MaxPageSize)));
    }

    private static int Parse(string? raw, int fallback, string name)
    {
        if (string.IsNullOrEmpty(raw))
        {
            return fallback;
        }
        // Pages past ~ten million are never a real client; refusing them keeps Skip within int.
        return int.TryParse(raw, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value)
            && value is >= 1 and <= 10_000_000
            ? value
            : throw new BadHttpRequestException($"'{name}' must be a whole number from 1.");
    }
}

public sealed record PagedResponse<T>(IReadOnlyList<T> Items, int Total, int Page, int PageSize);
