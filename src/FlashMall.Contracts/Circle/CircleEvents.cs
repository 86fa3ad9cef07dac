namespace FlashMall.Contracts.Circle;

/// <summary>A buyer posted to the circle: for moderation and for the search of linked products.</summary>
public sealed record PostCreated(Guid PostId, Guid AuthorId, string Text, IReadOnlyList<Guid> ProductIds, IReadOnlyList<string> ImageUrls, DateTimeOffset CreatedAt);

/// <summary>A post was removed by its author or an operator.</summary>
public sealed record PostDeleted(Guid PostId, Guid DeletedBy, DateTimeOffset DeletedAt);

/// <summary>A post reached the report threshold and is hidden pending review.</summary>
public sealed record PostHidden(Guid PostId, int Reports, DateTimeOffset HiddenAt);
