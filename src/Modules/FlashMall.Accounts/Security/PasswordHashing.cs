using FlashMall.Accounts.Domain;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace FlashMall.Accounts.Security;

internal enum PasswordCheck
{
    Failed,
    Success,
    SuccessRehashNeeded,
}

/// <summary>
/// PBKDF2-HMAC-SHA512 through ASP.NET Core Identity's hasher at OWASP's iteration count. Hashing
/// is deliberately expensive, so at most <see cref="AccountsOptions.MaxConcurrentHashes"/> run at
/// once: a credential-stuffing burst queues here (and is refused after a short wait) instead of
/// taking every core from flash-sale buyers.
/// </summary>
internal sealed class PasswordHashing : IDisposable
{
    /// <summary>Verified against when the account does not exist, so a miss costs as much as a hit.</summary>
    private readonly string _decoyHash;
    private readonly PasswordHasher<User> _hasher;
    private readonly SemaphoreSlim _slots;
    private readonly TimeSpan _queueTimeout;

    public PasswordHashing(IOptions<AccountsOptions> options)
    {
        _hasher = new PasswordHasher<User>(Options.Create(new PasswordHasherOptions
        {
            CompatibilityMode = PasswordHasherCompatibilityMode.IdentityV3,
            IterationCount = options.Value.PasswordHashIterations,
        }));
        _slots = new SemaphoreSlim(options.Value.MaxConcurrentHashes);
        _queueTimeout = options.Value.HashingQueueTimeout;
        _decoyHash = _hasher.HashPassword(null!, Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)));
    }

    /// <summary>Null when every hashing slot stayed busy for the queue timeout.</summary>
    public async Task<string?> HashAsync(string password, CancellationToken cancellationToken)
    {
        var (ran, hash) = await RunAsync(() => _hasher.HashPassword(null!, password), cancellationToken);
        return ran ? hash : null;
    }

    /// <summary>Null when busy (see <see cref="HashAsync"/>).</summary>
    public async Task<PasswordCheck?> VerifyAsync(string? storedHash, string password, CancellationToken cancellationToken)
    {
        var (ran, result) = await RunAsync(() => _hasher.VerifyHashedPassword(null!, storedHash ?? _decoyHash, password), cancellationToken);
        return result switch
        {
            _ when !ran => null,
            _ when storedHash is null => PasswordCheck.Failed,
            PasswordVerificationResult.Success => PasswordCheck.Success,
            PasswordVerificationResult.SuccessRehashNeeded => PasswordCheck.SuccessRehashNeeded,
            _ => PasswordCheck.Failed,
        };
    }

    private async Task<(bool Ran, T? Value)> RunAsync<T>(Func<T> work, CancellationToken cancellationToken)
    {
        if (!await _slots.WaitAsync(_queueTimeout, cancellationToken))
        {
            return (false, default);
        }
        try
        {
            return (true, work());
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>Hashing slots free right now.</summary>
    internal int FreeSlots => _slots.CurrentCount;

    public void Dispose() => _slots.Dispose();
}
