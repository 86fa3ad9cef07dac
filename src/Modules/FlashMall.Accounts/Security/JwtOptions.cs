using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace FlashMall.Accounts.Security;

/// <summary><c>Jwt:*</c>: access and refresh token settings.</summary>
internal sealed class JwtOptions
{
    public const string SectionName = "Jwt";

    [Required]
    public string Issuer { get; set; } = "flashmall";

    [Required]
    public string Audience { get; set; } = "flashmall-api";

    /// <summary>Base64 HMAC-SHA256 key of at least 32 bytes. When empty, one is generated under <c>Data:Directory</c>.</summary>
    public string? SigningKey { get; set; }

    [Range(typeof(TimeSpan), "00:01:00", "01:00:00")]
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(15);

    [Range(typeof(TimeSpan), "01:00:00", "90.00:00:00")]
    public TimeSpan RefreshTokenLifetime { get; set; } = TimeSpan.FromDays(30);

    [Range(typeof(TimeSpan), "00:00:00", "00:02:00")]
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);
}

[OptionsValidator]
internal sealed partial class JwtOptionsValidator : IValidateOptions<JwtOptions>;

/// <summary>A configured signing key must be base64 of at least 32 bytes (HS256 needs 256 bits).</summary>
internal sealed class JwtSigningKeyValidator : IValidateOptions<JwtOptions>
{
    public ValidateOptionsResult Validate(string? name, JwtOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.SigningKey))
        {
            return ValidateOptionsResult.Success;
        }
        var bytes = new byte[options.SigningKey.Length];
        return Convert.TryFromBase64String(options.SigningKey, bytes, out var length) && length >= SigningKeyStore.MinKeyBytes
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Jwt:SigningKey must be base64 of at least {SigningKeyStore.MinKeyBytes} random bytes.");
    }
}

/// <summary><c>Accounts:*</c>: password and lockout policy.</summary>
internal sealed class AccountsOptions
{
    public const string SectionName = "Accounts";

    /// <summary>PBKDF2-HMAC-SHA512 iterations (OWASP 2023: at least 210,000).</summary>
    [Range(210_000, 5_000_000)]
    public int PasswordHashIterations { get; set; } = 210_000;

    /// <summary>
    /// Password hashes computed at once (default: half the cores, so sign-in bursts always leave
    /// cores for buying); more wait, and past <see cref="HashingQueueTimeout"/> are refused with 503.
    /// </summary>
    [Range(1, 64)]
    public int MaxConcurrentHashes { get; set; } = Math.Max(1, Environment.ProcessorCount / 2);

    [Range(typeof(TimeSpan), "00:00:00.100", "00:00:30")]
    public TimeSpan HashingQueueTimeout { get; set; } = TimeSpan.FromSeconds(2);

    [Range(1, 100)]
    public int MaxFailedLogins { get; set; } = 5;

    [Range(typeof(TimeSpan), "00:00:10", "1.00:00:00")]
    public TimeSpan LockoutDuration { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Failed logins from one IP (any accounts) within <see cref="LockoutDuration"/> before that IP is refused.</summary>
    [Range(1, 100_000)]
    public int MaxFailedLoginsPerIp { get; set; } = 50;

    /// <summary>Login and register requests per IP per minute (lifted with <c>RateLimiting:Enabled=false</c>).</summary>
    [Range(1, 100_000)]
    public int AuthRequestsPerIpPerMinute { get; set; } = 60;
}

[OptionsValidator]
internal sealed partial class AccountsOptionsValidator : IValidateOptions<AccountsOptions>;

/// <summary><c>Bootstrap:*</c>: the first admin account.</summary>
internal sealed class BootstrapOptions
{
    public const string SectionName = "Bootstrap";

    public string? AdminEmail { get; set; }

    public string? AdminPassword { get; set; }
}

internal sealed class BootstrapOptionsValidator : IValidateOptions<BootstrapOptions>
{
    public ValidateOptionsResult Validate(string? name, BootstrapOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.AdminEmail) && string.IsNullOrWhiteSpace(options.AdminPassword))
        {
            return ValidateOptionsResult.Success;
        }
        var failures = new List<string>();
        if (Endpoints.Credentials.NormalizeEmail(options.AdminEmail) is null)
        {
            failures.Add("Bootstrap:AdminEmail must be a valid email address.");
        }
        if (options.AdminPassword is not { Length: >= Endpoints.Credentials.MinPasswordLength and <= Endpoints.Credentials.MaxPasswordLength })
        {
            failures.Add($"Bootstrap:AdminPassword must be {Endpoints.Credentials.MinPasswordLength}-{Endpoints.Credentials.MaxPasswordLength} characters.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
