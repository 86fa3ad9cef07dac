namespace FlashMall.Accounts.Domain;

internal sealed class User
{
    private User()
    {
    }

    public Guid Id { get; private set; }
    public string? Email { get; private set; }
    public string? Phone { get; private set; }
    public string Nickname { get; private set; } = "";
    public string PasswordHash { get; private set; } = "";
    /// <summary>Comma-separated role names; see <see cref="RoleList"/>.</summary>
    public string Roles { get; private set; } = FlashMall.Kernel.Http.Roles.Buyer;
    public int FailedLogins { get; private set; }
    public DateTimeOffset? LockedUntil { get; private set; }
    /// <summary>Addresses in the book, kept by conditional updates so the cap holds under concurrency.</summary>
    public int AddressCount { get; private set; }
    public DateTimeOffset CreatedAt { get; private set; }

    public IReadOnlyList<string> RoleList => Roles.Split(',', StringSplitOptions.RemoveEmptyEntries);

    public static User Register(Guid id, string? email, string? phone, string nickname, string passwordHash, DateTimeOffset now) => new()
    {
        Id = id,
        Email = email,
        Phone = phone,
        Nickname = nickname,
        PasswordHash = passwordHash,
        CreatedAt = now,
    };

    public void ChangePasswordHash(string passwordHash) => PasswordHash = passwordHash;

    /// <summary>Every user is a buyer; other roles come on top.</summary>
    public void SetRoles(IEnumerable<string> roles) =>
        Roles = string.Join(',', roles.Append(FlashMall.Kernel.Http.Roles.Buyer).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal));

    public static bool IsKnownRole(string role) => FlashMall.Kernel.Http.Roles.All.Contains(role);
}
