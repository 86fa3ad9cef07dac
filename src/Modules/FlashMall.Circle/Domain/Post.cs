namespace FlashMall.Circle.Domain;

/// <summary>One image of a post, as the Media module stored it.</summary>
internal sealed class PostImage
{
    public int Position { get; set; }
    public string Url { get; set; } = "";
    public string MediumUrl { get; set; } = "";
    public string ThumbUrl { get; set; } = "";
    public int Width { get; set; }
    public int Height { get; set; }
}

/// <summary>
/// A buyer's post. <see cref="Text"/> is kept exactly as written (it is encoded on output, never
/// on input). <see cref="SortKey"/> orders the feed (creation time, then id) as one comparable
/// string, so a cursor is a single value. Deleted and hidden posts leave every feed.
/// </summary>
internal sealed class Post
{
    public const int MaxTextLength = 1000;
    public const int MaxImages = 9;
    public const int MaxProducts = 9;

    private Post()
    {
    }

    public Guid Id { get; private set; }
    public Guid AuthorId { get; private set; }
    public string Text { get; private set; } = "";
    public string ProductIds { get; private set; } = "";
    public List<PostImage> Images { get; private set; } = [];
    public DateTimeOffset CreatedAt { get; private set; }
    public string SortKey { get; private set; } = "";
    public int Likes { get; private set; }
    public int Comments { get; private set; }
    public int Reports { get; private set; }
    public bool Hidden { get; private set; }
    public DateTimeOffset? DeletedAt { get; private set; }

    public IReadOnlyList<Guid> Products => ProductIds.Length == 0 ? [] : [.. ProductIds.Split(',').Select(Guid.Parse)];

    public static Post Create(Guid id, Guid authorId, string text, IReadOnlyList<Guid> productIds, IReadOnlyList<PostImage> images, DateTimeOffset now) =>
        new()
        {
            Id = id, AuthorId = authorId, Text = text, ProductIds = string.Join(',', productIds), Images = [.. images], CreatedAt = now,
            SortKey = SortKeys.Of(now, id),
        };
}

/// <summary>Feed positions: 19 digits of UTC ticks then the id's 32 hex digits; ordinal order is feed order.</summary>
internal static class SortKeys
{
    public const int Length = 19 + 32;

    public static string Of(DateTimeOffset at, Guid id) => $"{at.UtcTicks:D19}{id:N}";

    public static bool IsValid(string? value) =>
        value is { Length: Length } && value.AsSpan(0, 19).IndexOfAnyExceptInRange('0', '9') < 0
        && value.AsSpan(19).IndexOfAnyExcept(LowerHex) < 0;

    private static readonly System.Buffers.SearchValues<char> LowerHex = System.Buffers.SearchValues.Create("0123456789abcdef");
}

/// <summary>One user's like of a post; the key (post, user) makes a second like the same like.</summary>
internal sealed class Like
{
    public Guid PostId { get; set; }
    public Guid UserId { get; set; }
    public DateTimeOffset At { get; set; }
}

/// <summary>One user's report of a post; one per user counts.</summary>
internal sealed class Report
{
    public const int MaxReasonLength = 200;

    public Guid PostId { get; set; }
    public Guid UserId { get; set; }
    public string Reason { get; set; } = "";
    public DateTimeOffset At { get; set; }
}

internal sealed class Comment
{
    public const int MaxTextLength = 500;

    public Guid Id { get; set; }
    public Guid PostId { get; set; }
    public Guid AuthorId { get; set; }
    public string Text { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary><see cref="FollowerId"/> follows <see cref="FolloweeId"/>.</summary>
internal sealed class Follow
{
    public Guid FollowerId { get; set; }
    public Guid FolloweeId { get; set; }
    public DateTimeOffset At { get; set; }
}
