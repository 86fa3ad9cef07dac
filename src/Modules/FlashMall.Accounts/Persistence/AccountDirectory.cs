using FlashMall.Contracts.Accounts;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Hybrid;

namespace FlashMall.Accounts.Persistence;

/// <summary>
/// Answers other modules' questions about an account. A registration time never changes, so it
/// is cached for long (and shared through the L2 when there is one); only signed-in callers'
/// own ids are asked about, so random ids cannot fill the cache.
/// </summary>
internal sealed class AccountDirectory(AccountsDbContext db, HybridCache cache) : IAccountDirectory
{
    private static readonly HybridCacheEntryOptions Entry = new() { Expiration = TimeSpan.FromHours(12), LocalCacheExpiration = TimeSpan.FromMinutes(10) };

    public async Task<DateTimeOffset?> CreatedAtAsync(Guid userId, CancellationToken cancellationToken = default)
    {
        var found = await cache.GetOrCreateAsync($"accounts:created-at:{userId:N}", (db, userId), static async (state, ct) =>
            new AccountCreated(await state.db.Users.AsNoTracking().Where(u => u.Id == state.userId)
                .Select(u => (DateTimeOffset?)u.CreatedAt).SingleOrDefaultAsync(ct)), Entry, cancellationToken: cancellationToken);
        return found.At;
    }

    internal sealed record AccountCreated(DateTimeOffset? At);
}
