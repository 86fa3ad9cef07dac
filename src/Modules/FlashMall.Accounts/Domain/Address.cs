namespace FlashMall.Accounts.Domain;

/// <summary>A shipping address in a buyer's address book.</summary>
internal sealed class Address
{
    private Address()
    {
    }

    public Guid Id { get; private set; }
    public Guid UserId { get; private set; }
    public string Name { get; private set; } = "";
    public string Phone { get; private set; } = "";
    public string Line1 { get; private set; } = "";
    public string City { get; private set; } = "";
    public string Region { get; private set; } = "";
    public string? Postcode { get; private set; }
    public DateTimeOffset CreatedAt { get; private set; }

    public static Address Create(Guid id, Guid userId, string name, string phone, string line1, string city, string region, string? postcode, DateTimeOffset now) => new()
    {
        Id = id,
        UserId = userId,
        Name = name,
        Phone = phone,
        Line1 = line1,
        City = city,
        Region = region,
        Postcode = postcode,
        CreatedAt = now,
    };
}
