using System.Globalization;
using System.Security.Claims;
using FlashMall.Accounts.Domain;
using FlashMall.Accounts.Persistence;
using FlashMall.Accounts.Security;
using FlashMall.Kernel.Hosting;
using FlashMall.Kernel.Http;
using FlashMall.Kernel.Persistence;
using FlashMall.Kernel.Problems;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlashMall.Accounts.Endpoints;

internal sealed record RegisterRequest(string? Email, string? Phone, string? Password, string? Nickname);
internal sealed record RegisterResponse(string UserId);
internal sealed record LoginRequest(string? Login, string? Password);
internal sealed record RefreshRequest(string? RefreshToken);
internal sealed record TokenResponse(string AccessToken, string RefreshToken, int ExpiresIn);
internal sealed record MeResponse(string UserId, string? Email, string? Phone, string Nickname, IReadOnlyList<string> Roles);

internal static partial class AccountEndpoints
{
    public const string AuthRateLimitPolicy = "accounts-auth";

    public static void MapAccountEndpoints(this IEndpointRouteBuilder routes)
    {
        var accounts = routes.MapGroup("/api/accounts").WithTags("Accounts").Core();

        var anonymous = accounts.MapGroup("").RequireRateLimiting(AuthRateLimitPolicy);
        anonymous.MapPost("/register", Register);
        anonymous.MapPost("/login", Login);
        anonymous.MapPost("/refresh", Refresh);

        accounts.MapGet("/me", Me).RequireAuthorization();
    }

    private static async Task<Results<Created<RegisterResponse>, ProblemHttpResult>> Register(
        RegisterRequest request, HttpContext http, AccountsDbContext db, PasswordHashing hashing, IIdGenerator ids, TimeProvider clock,
        ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var validation = new Validator();
        var email = request.Email is null ? null : Credentials.NormalizeEmail(request.Email);
        var phone = request.Phone is null ? null : Credentials.NormalizePhone(request.Phone);
        validation
            .Require(request.Email is not null || request.Phone is not null, "email", "Give an email or a phone number.")
            .Require(request.Email is null || request.Phone is null, "phone", "Give an email or a phone number, not both.")
            .Require(request.Email is null || email is not null, "email", "Not a valid email address.")
            .Require(request.Phone is null || phone is not null, "phone", "Not a valid phone number (digits, optional leading +).")
            .RequiredText(request.Password, "password", Credentials.MaxPasswordLength, Credentials.MinPasswordLength)
            .OptionalText(request.Nickname, "nickname", Credentials.MaxNicknameLength);
        if (!validation.IsValid)
        {
            return validation.ToProblem();
        }

        var hash = await hashing.HashAsync(request.Password!, cancellationToken);
        if (hash is null)
        {
            return Busy(http);
        }

        var nickname = string.IsNullOrWhiteSpace(request.Nickname) ? DefaultNickname(email, phone) : request.Nickname.Trim();
        var user = User.Register(ids.NewId(), email, phone, nickname, hash, clock.GetUtcNow());
        db.Users.Add(user);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            return Problems.Conflict(AccountCodes.AccountExists, "An account with this email or phone already exists.");
        }

        LogRegistered(loggers.CreateLogger(typeof(AccountEndpoints)), user.Id);
        return TypedResults.Created("/api/accounts/me", new RegisterResponse(user.Id.ToString()));
    }

    private static async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> Login(
        LoginRequest request, HttpContext http, AccountsDbContext db, PasswordHashing hashing, TokenService tokens,
        LoginFailureThrottle ipThrottle, IOptions<AccountsOptions> options, IIdGenerator ids, TimeProvider clock,
        ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var logger = loggers.CreateLogger(typeof(AccountEndpoints));
        var validation = new Validator()
            .RequiredText(request.Login, "login", Credentials.MaxEmailLength)
            .RequiredText(request.Password, "password", Credentials.MaxPasswordLength);
        if (!validation.IsValid)
        {
            return validation.ToProblem();
        }

        var ip = http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (ipThrottle.IsBlocked(ip))
        {
            LogIpBlocked(logger, ip);
            return Problems.TooManyRequests(AccountCodes.TooManyFailedLogins, "Too many failed logins from this address; try again later.");
        }

        var login = Credentials.NormalizeLogin(request.Login, out var isEmail);
        var user = login is null
            ? null
            : await db.Users.SingleOrDefaultAsync(u => isEmail ? u.Email == login : u.Phone == login, cancellationToken);

        var now = clock.GetUtcNow();
        // Each attempt is counted in the store before the (slow) hash, so parallel guesses
        // cannot outrun the lockout: at most MaxFailedLogins attempts per lockout window.
        if (user is not null && !await TryStartAttemptAsync(db, user.Id, options.Value, now, cancellationToken))
        {
            LogLockedOutAttempt(logger, user.Id);
            var lockedUntil = await db.Users.Where(u => u.Id == user.Id).Select(u => u.LockedUntil).SingleAsync(cancellationToken);
            var wait = lockedUntil > now ? (int)Math.Ceiling((lockedUntil.Value - now).TotalSeconds) : 1;
            http.Response.Headers.RetryAfter = wait.ToString(CultureInfo.InvariantCulture);
            return Problems.TooManyRequests(AccountCodes.AccountLocked, "Too many failed logins for this account; try again later.");
        }

        var check = await hashing.VerifyAsync(user?.PasswordHash, request.Password!, cancellationToken);
        if (check is null)
        {
            if (user is not null)
            {
                await EndAttemptAsync(db, user.Id, AttemptOutcome.NotChecked, options.Value, now);
            }
            return Busy(http);
        }
        if (user is null || check == PasswordCheck.Failed)
        {
            ipThrottle.RecordFailure(ip);
            if (user is not null)
            {
                await EndAttemptAsync(db, user.Id, AttemptOutcome.Failed, options.Value, now);
            }
            LogFailedLogin(logger, user?.Id, ip);
            return Problems.Unauthorized(AccountCodes.InvalidCredentials, "The login or password is wrong.");
        }

        if (check == PasswordCheck.SuccessRehashNeeded && await hashing.HashAsync(request.Password!, cancellationToken) is { } stronger)
        {
            user.ChangePasswordHash(stronger);
        }
        await EndAttemptAsync(db, user.Id, AttemptOutcome.Succeeded, options.Value, now);

        var issued = await IssueAsync(db, tokens, ids, user, familyId: ids.NewId(), now, cancellationToken);
        LogLoggedIn(logger, user.Id);
        return TypedResults.Ok(issued);
    }

    private static async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> Refresh(
        RefreshRequest request, AccountsDbContext db, TokenService tokens, IIdGenerator ids, TimeProvider clock,
        ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var validation = new Validator().RequiredText(request.RefreshToken, "refreshToken", 128);
        if (!validation.IsValid)
        {
            return validation.ToProblem();
        }

        var hash = TokenService.HashRefreshToken(request.RefreshToken!);
        var now = clock.GetUtcNow();
        // The store decides who wins: only one request can retire a given token.
        var retired = await db.RefreshTokens
            .Where(t => t.TokenHash == hash && t.UsedAt == null && t.RevokedAt == null && t.ExpiresAt > now)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.UsedAt, now), cancellationToken);

        var token = await db.RefreshTokens.AsNoTracking().SingleOrDefaultAsync(t => t.TokenHash == hash, cancellationToken);
        if (retired != 1 || token is null)
        {
            if (token is { UsedAt: not null, RevokedAt: null })
            {
                // A retired token came back: it was stolen or replayed. End the whole session family.
                await db.RefreshTokens.Where(t => t.FamilyId == token.FamilyId && t.RevokedAt == null)
                    .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, now), cancellationToken);
                LogRefreshReuse(loggers.CreateLogger(typeof(AccountEndpoints)), token.UserId, token.FamilyId);
            }
            return Problems.Unauthorized(AccountCodes.InvalidRefreshToken, "The refresh token is invalid, expired or already used.");
        }

        var user = await db.Users.SingleOrDefaultAsync(u => u.Id == token.UserId, cancellationToken);
        if (user is null)
        {
            return Problems.Unauthorized(AccountCodes.InvalidRefreshToken, "The refresh token is invalid, expired or already used.");
        }
        return TypedResults.Ok(await IssueAsync(db, tokens, ids, user, token.FamilyId, now, cancellationToken));
    }

    private static async Task<Results<Ok<MeResponse>, ProblemHttpResult>> Me(ClaimsPrincipal principal, AccountsDbContext db, CancellationToken cancellationToken)
    {
        var userId = principal.UserId();
        var user = await db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.Id == userId, cancellationToken);
        return user is null
            ? Problems.NotFound("account")
            : TypedResults.Ok(new MeResponse(user.Id.ToString(), user.Email, user.Phone, user.Nickname, user.RoleList));
    }

    private static async Task<TokenResponse> IssueAsync(
        AccountsDbContext db, TokenService tokens, IIdGenerator ids, User user, Guid familyId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var (refresh, hash) = TokenService.CreateRefreshToken();
        db.RefreshTokens.Add(RefreshToken.Issue(ids.NewId(), user.Id, familyId, hash, now, tokens.Options.RefreshTokenLifetime));
        await db.SaveChangesAsync(cancellationToken);
        return new TokenResponse(tokens.CreateAccessToken(user), refresh, (int)tokens.Options.AccessTokenLifetime.TotalSeconds);
    }

    /// <summary>
    /// Claims one login attempt: counts it unless the account is locked or already has the
    /// maximum of attempts counted. The store decides, so concurrent guesses queue behind it.
    /// </summary>
    private static async Task<bool> TryStartAttemptAsync(AccountsDbContext db, Guid userId, AccountsOptions options, DateTimeOffset now, CancellationToken cancellationToken) =>
        await db.Users
            .Where(u => u.Id == userId && u.FailedLogins < options.MaxFailedLogins && (u.LockedUntil == null || u.LockedUntil <= now))
            .ExecuteUpdateAsync(s => s.SetProperty(u => u.FailedLogins, u => u.FailedLogins + 1), cancellationToken) == 1;

    private enum AttemptOutcome
    {
        Succeeded,
        Failed,
        NotChecked,
    }

    /// <summary>
    /// A success clears the count; an attempt never checked (hashing busy) gives its count back;
    /// a failure keeps it and locks the account once the count reaches the limit. Runs to the end
    /// even if the client goes away.
    /// </summary>
    private static Task<int> EndAttemptAsync(AccountsDbContext db, Guid userId, AttemptOutcome outcome, AccountsOptions options, DateTimeOffset now) => outcome switch
    {
        AttemptOutcome.Succeeded => db.Users.Where(u => u.Id == userId)
            .ExecuteUpdateAsync(s => s.SetProperty(u => u.FailedLogins, 0), CancellationToken.None),
        AttemptOutcome.NotChecked => db.Users.Where(u => u.Id == userId && u.FailedLogins > 0)
            .ExecuteUpdateAsync(s => s.SetProperty(u => u.FailedLogins, u => u.FailedLogins - 1), CancellationToken.None),
        _ => db.Users.Where(u => u.Id == userId && u.FailedLogins >= options.MaxFailedLogins)
            .ExecuteUpdateAsync(s => s
                .SetProperty(u => u.FailedLogins, 0)
                .SetProperty(u => u.LockedUntil, now + options.LockoutDuration), CancellationToken.None),
    };

    private static string DefaultNickname(string? email, string? phone) =>
        email is not null ? email[..Math.Min(email.IndexOf('@', StringComparison.Ordinal), Credentials.MaxNicknameLength)]
        : $"用户{phone![^4..]}";

    private static ProblemHttpResult Busy(HttpContext http)
    {
        http.Response.Headers.RetryAfter = "1";
        return Problems.Create(StatusCodes.Status503ServiceUnavailable, ProblemCodes.ServerBusy, "Busy", "Too many sign-ins at once; retry in a moment.");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Registered user {UserId}")]
    private static partial void LogRegistered(ILogger logger, Guid userId);

    [LoggerMessage(Level = LogLevel.Information, Message = "User {UserId} logged in")]
    private static partial void LogLoggedIn(ILogger logger, Guid userId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Failed login for user {UserId} from {ClientIp}")]
    private static partial void LogFailedLogin(ILogger logger, Guid? userId, string clientIp);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Login refused: user {UserId} is locked out")]
    private static partial void LogLockedOutAttempt(ILogger logger, Guid userId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Login refused: too many failed logins from {ClientIp}")]
    private static partial void LogIpBlocked(ILogger logger, string clientIp);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refresh token reuse for user {UserId}: revoked token family {FamilyId}")]
    private static partial void LogRefreshReuse(ILogger logger, Guid userId, Guid familyId);
}
