namespace FlashMall.Accounts.Endpoints;

/// <summary>Problem codes of the Accounts module (part of the public API: never rename).</summary>
internal static class AccountCodes
{
    public const string AccountExists = "account_exists";
    public const string InvalidCredentials = "invalid_credentials";
    public const string AccountLocked = "account_locked";
    public const string TooManyFailedLogins = "too_many_failed_logins";
    public const string InvalidRefreshToken = "invalid_refresh_token";
    public const string InvalidToken = "invalid_token";
}
