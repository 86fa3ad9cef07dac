using FlashMall.Circle.Domain;

namespace FlashMall.Circle.Endpoints;

internal sealed record ImageView(string Url, string ThumbUrl, string MediumUrl, int Width, int Height)
{
    public static ImageView Of(PostImage image) => new(image.Url, image.ThumbUrl, image.MediumUrl, image.Width, image.Height);
}

internal sealed record PostCreatedView(string PostId, IReadOnlyList<ImageView> Images);

/// <summary>A post as clients see it; <see cref="Cursor"/> is its feed position (pass it as <c>cursor</c> for what follows).</summary>
internal sealed record PostView(
    string PostId, string AuthorId, string Text, IReadOnlyList<string> ProductIds, IReadOnlyList<ImageView> Images,
    int Likes, int Comments, DateTimeOffset CreatedAt, string Cursor)
{
    public static PostView Of(Post post) => new(post.Id.ToString(), post.AuthorId.ToString(), post.Text,
        [.. post.Products.Select(p => p.ToString())], [.. post.Images.OrderBy(i => i.Position).Select(ImageView.Of)],
        post.Likes, post.Comments, post.CreatedAt, post.SortKey);
}

/// <summary>
/// The list shape of the API plus the two ways to page on: <see cref="Before"/> pins page numbers
/// to the feed as it was at page 1 (send it back with every later page), and
/// <see cref="NextCursor"/> continues after the last item (null at the end).
/// </summary>
internal sealed record FeedPage(IReadOnlyList<PostView> Items, int Total, int Page, int PageSize, string? Before, string? NextCursor);

internal sealed record LikeView(bool Liked, int Likes);

internal sealed record CommentRequest(string? Text);

internal sealed record CommentCreated(string CommentId);

internal sealed record CommentView(string CommentId, string AuthorId, string Text, DateTimeOffset CreatedAt);

internal sealed record ReportRequest(string? Reason);

internal sealed record ReportView(bool Reported);
