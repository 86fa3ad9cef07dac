namespace FlashMall.Catalog.Domain;

internal sealed class Category
{
    private Category()
    {
    }

    public Guid Id { get; private set; }
    public Guid? ParentId { get; private set; }
    public string Name { get; private set; } = "";
    /// <summary>Ids from the root down, e.g. <c>/a/b/</c>: a subtree is a prefix match.</summary>
    public string Path { get; private set; } = "";
    public int SortOrder { get; private set; }

    public static Category Create(Guid id, Category? parent, string name, int sortOrder) => new()
    {
        Id = id,
        ParentId = parent?.Id,
        Name = name,
        Path = $"{parent?.Path ?? "/"}{id:N}/",
        SortOrder = sortOrder,
    };
}
