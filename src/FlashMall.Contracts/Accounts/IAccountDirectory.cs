namespace FlashMall.Contracts.Accounts;

/// <summary>What other modules may know about an account, answered by the Accounts module.</summary>
public interface IAccountDirectory
{
    /// <summary>When the account was registered; null when there is no such account.</summary>
    Task<DateTimeOffset?> CreatedAtAsync(Guid userId, CancellationToken cancellationToken = default);
}
