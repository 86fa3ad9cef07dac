namespace FlashMall.Contracts.Catalog;

/// <summary>
/// Something a shopper can search by changed on a product: its fields or SKUs, its stock or its
/// sales. Carries only the id: a consumer reads the product as it is now
/// (<see cref="ICatalogSearchSource"/>), so events arriving late or twice never bring an old state
/// back. Published through the Catalog outbox in the change's own transaction.
/// </summary>
public sealed record ProductChanged(Guid ProductId, DateTimeOffset ChangedAt);

/// <summary>A merchandiser deleted a product: it leaves every listing. Published through the Catalog outbox with the delete.</summary>
public sealed record ProductDeleted(Guid ProductId, DateTimeOffset DeletedAt);
