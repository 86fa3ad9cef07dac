using System.Security.Cryptography;
using FlashMall.Kernel.Http;
using FlashMall.Kernel.Persistence;
using FlashMall.Kernel.Problems;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace FlashMall.Kernel.Idempotency;

/// <summary>Marks an endpoint as accepting <c>Idempotency-Key</c>.</summary>
/// <param name="EffectInTransaction">
/// True (the default): the handler's writes and its stored answer commit in one transaction.
/// False: for a handler that calls outside the process (a payment provider) and must not hold a
/// database transaction open meanwhile; its effect must then be idempotent by itself (e.g. one
/// payment intent per order), since a failure after the effect and before the answer is stored
/// lets a retry run it again.
/// </param>
public sealed record IdempotentEndpointMetadata(bool EffectInTransaction = true);

public static class IdempotencyEndpointExtensions
{
    /// <summary>
    /// Opts an endpoint into <c>Idempotency-Key</c> handling. The endpoint's effect must be saved
    /// through <typeparamref name="TContext"/>, so the answer is stored in the same transaction.
    /// </summary>
    /// <param name="builder">The endpoint.</param>
    /// <param name="effectInTransaction">See <see cref="IdempotentEndpointMetadata"/>.</param>
    public static TBuilder WithIdempotency<TBuilder, TContext>(this TBuilder builder, bool effectInTransaction = true)
        where TBuilder : IEndpointConventionBuilder
        where TContext : DbContext
    {
        builder.WithMetadata(new IdempotentEndpointMetadata(effectInTransaction));
        builder.AddEndpointFilter<TBuilder, IdempotencyFilter<TContext>>();
        return builder;
    }

    /// <summary>Buffers the body of requests that carry a key, so its hash can be taken after binding.</summary>
    public static IApplicationBuilder UseIdempotencyKeys(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        if (context.Request.Headers.ContainsKey(IdempotencyFilter.HeaderName)
            && context.GetEndpoint()?.Metadata.GetMetadata<IdempotentEndpointMetadata>() is not null)
        {
            context.Request.EnableBuffering();
        }
        return next(context);
    });
}

public static class IdempotencyFilter
{
    public const string HeaderName = "Idempotency-Key";
    public const string ReplayedHeaderName = "Idempotent-Replayed";
    public const int MaxKeyLength = 255;

    /// <summary>How long a claim stays "in flight" before a crashed request's key may be taken over.</summary>
    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The request's key: none (null, no problem), a valid one (exactly one header value of 1–255
    /// visible ASCII characters), or the problem to answer.
    /// </summary>
    public static (string? Key, Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult? Problem) ReadKey(HttpRequest request)
    {
        if (!request.Headers.TryGetValue(HeaderName, out var values))
        {
            return (null, null);
        }
        var key = values.ToString();
        return key.Length is 0 or > MaxKeyLength || values.Count != 1 || !key.All(c => c is >= '!' and <= '~')
            ? (null, Problems.Problems.BadRequest(ProblemCodes.IdempotencyKeyInvalid, $"{HeaderName} must be 1-{MaxKeyLength} visible ASCII characters."))
            : (key, null);
    }
}

internal sealed partial class IdempotencyFilter<TContext>(TContext db, TimeProvider clock, ILogger<IdempotencyFilter<TContext>> logger) : IEndpointFilter
    where TContext : DbContext
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var (key, invalid) = IdempotencyFilter.ReadKey(http.Request);
        if (invalid is not null)
        {
            return invalid;
        }
        if (key is null)
        {
            return await next(context);
        }

        // Keys are scoped to the signed-in caller; an anonymous request has no scope to keep them in.
        if (http.User.UserIdValue() is not { } scope)
        {
            return await next(context);
        }
        var hash = await HashRequestAsync(http.Request);
        var now = clock.GetUtcNow();

        var claimToken = Guid.NewGuid();
        var refusal = await ClaimAsync(scope, key, hash, claimToken, now, http.RequestAborted);
        if (refusal is not null)
        {
            return refusal;
        }

        return await RunAndRecordAsync(context, next, scope, key, claimToken);
    }

    private async Task<IResult?> ClaimAsync(string scope, string key, byte[] hash, Guid claimToken, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var claim = IdempotencyRecord.Claim(scope, key, hash, claimToken, now, IdempotencyFilter.Lease);
        db.Add(claim);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return null;
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            db.Entry(claim).State = EntityState.Detached;
        }

        var existing = await db.Set<IdempotencyRecord>().AsNoTracking()
            .SingleOrDefaultAsync(r => r.Scope == scope && r.Key == key, cancellationToken);
        if (existing is null)
        {
            // The first attempt failed and released the key between our insert and this read.
            return Problems.Problems.Conflict(ProblemCodes.IdempotencyInFlight, "A request with this Idempotency-Key just finished failing; retry.");
        }

        if (!CryptographicOperations.FixedTimeEquals(existing.RequestHash, hash))
        {
            LogKeyReused(logger, scope);
            return Problems.Problems.Create(StatusCodes.Status422UnprocessableEntity, ProblemCodes.IdempotencyKeyReused,
                "Idempotency key reused", "This Idempotency-Key was already used with a different request.");
        }

        if (existing.Completed)
        {
            return new ReplayedResult(existing);
        }

        if (existing.LeaseExpiresAt > now)
        {
            return Problems.Problems.Conflict(ProblemCodes.IdempotencyInFlight,
                "A request with this Idempotency-Key is still being processed; retry shortly.");
        }

        // The first attempt died without answering (its effect rolled back with it): take the key over.
        var takenOver = await db.Set<IdempotencyRecord>()
            .Where(r => r.Scope == scope && r.Key == key && !r.Completed && r.LeaseExpiresAt == existing.LeaseExpiresAt)
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.LeaseExpiresAt, now + IdempotencyFilter.Lease)
                .SetProperty(r => r.ClaimToken, claimToken), cancellationToken);
        return takenOver == 1
            ? null
            : Problems.Problems.Conflict(ProblemCodes.IdempotencyInFlight, "A request with this Idempotency-Key is still being processed; retry shortly.");
    }

    private async Task<object?> RunAndRecordAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next, string scope, string key, Guid claimToken)
    {
        var http = context.HttpContext;
        var records = db.Set<IdempotencyRecord>();
        var inTransaction = http.GetEndpoint()?.Metadata.GetMetadata<IdempotentEndpointMetadata>()?.EffectInTransaction ?? true;
        await using var transaction = inTransaction ? await db.Database.BeginTransactionAsync(http.RequestAborted) : null;
        try
        {
            var result = await next(context);
            var captured = await CapturedResponse.ExecuteAsync(result, http);
            // A failure, or an answer that tells the client to retry (Retry-After), is not the key's final answer.
            if (captured.Status >= 500 || http.Response.Headers.ContainsKey(HeaderNames.RetryAfter))
            {
                await RollbackAsync(transaction);
                await ReleaseAsync(records, scope, key, claimToken);
                return captured;
            }

            // Only the attempt that still holds the claim may commit: if a retry took the key
            // over after the lease ran out, this attempt's effect is rolled back, not doubled.
            var stored = await records.Where(r => r.Scope == scope && r.Key == key && r.ClaimToken == claimToken && !r.Completed).ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Completed, true)
                .SetProperty(r => r.ResponseStatus, captured.Status)
                .SetProperty(r => r.ResponseContentType, captured.ContentType)
                .SetProperty(r => r.ResponseLocation, captured.Location)
                .SetProperty(r => r.ResponseBody, captured.Body), CancellationToken.None);
            if (stored != 1)
            {
                await RollbackAsync(transaction);
                LogClaimLost(logger, scope);
                http.Response.Clear();
                return Problems.Problems.Conflict(ProblemCodes.IdempotencyInFlight, "A retry with this Idempotency-Key took over this request; its answer is the one kept.");
            }
            // Once the effect is decided, finish it even if the client has gone away.
            if (transaction is not null)
            {
                await transaction.CommitAsync(CancellationToken.None);
            }
            return captured;
        }
        catch
        {
            await RollbackAsync(transaction);
            await ReleaseAsync(records, scope, key, claimToken);
            throw;
        }
    }

    private static Task RollbackAsync(Microsoft.EntityFrameworkCore.Storage.IDbContextTransaction? transaction) =>
        transaction?.RollbackAsync(CancellationToken.None) ?? Task.CompletedTask;

    // A failed attempt leaves no claim behind, so the client's retry runs afresh.
    private static Task<int> ReleaseAsync(DbSet<IdempotencyRecord> records, string scope, string key, Guid claimToken) =>
        records.Where(r => r.Scope == scope && r.Key == key && r.ClaimToken == claimToken && !r.Completed).ExecuteDeleteAsync(CancellationToken.None);

    private static async Task<byte[]> HashRequestAsync(HttpRequest request)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(System.Text.Encoding.UTF8.GetBytes($"{request.Method} {request.Path}{request.QueryString}\n"));
        if (request.Body.CanSeek)
        {
            request.Body.Position = 0;
            var buffer = new byte[16 * 1024];
            int read;
            while ((read = await request.Body.ReadAsync(buffer, request.HttpContext.RequestAborted)) > 0)
            {
                hash.AppendData(buffer, 0, read);
            }
            request.Body.Position = 0;
        }
        return hash.GetHashAndReset();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "An attempt by {Scope} lost its Idempotency-Key claim to a retry; its effect was rolled back (or, for an endpoint whose effect is idempotent by itself, left to the retry's answer)")]
    private static partial void LogClaimLost(ILogger logger, string scope);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Idempotency-Key reused with a different request by {Scope}")]
    private static partial void LogKeyReused(ILogger logger, string scope);

    /// <summary>The first answer, as executed into a buffer, so exactly those bytes can be replayed.</summary>
    private sealed class CapturedResponse : IResult
    {
        public int Status { get; private init; }
        public string? ContentType { get; private init; }
        public string? Location { get; private init; }
        public byte[] Body { get; private init; } = [];

        public static async Task<CapturedResponse> ExecuteAsync(object? result, HttpContext http)
        {
            var original = http.Response.Body;
            using var buffer = new MemoryStream();
            http.Response.Body = buffer;
            try
            {
                switch (result)
                {
                    case IResult r:
                        await r.ExecuteAsync(http);
                        break;
                    case null:
                        break;
                    default:
                        await TypedResults.Ok(result).ExecuteAsync(http);
                        break;
                }
            }
            finally
            {
                http.Response.Body = original;
            }

            return new CapturedResponse
            {
                Status = http.Response.StatusCode,
                ContentType = http.Response.ContentType,
                Location = http.Response.Headers.Location.ToString() is { Length: > 0 } location ? location : null,
                Body = buffer.ToArray(),
            };
        }

        public Task ExecuteAsync(HttpContext httpContext) => Body.Length == 0
            ? Task.CompletedTask
            : httpContext.Response.Body.WriteAsync(Body, httpContext.RequestAborted).AsTask();
    }

    private sealed class ReplayedResult(IdempotencyRecord record) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.StatusCode = record.ResponseStatus ?? StatusCodes.Status200OK;
            response.Headers[IdempotencyFilter.ReplayedHeaderName] = "true";
            if (record.ResponseContentType is { } contentType)
            {
                response.ContentType = contentType;
            }
            if (record.ResponseLocation is { } location)
            {
                response.Headers.Location = location;
            }
            if (record.ResponseBody is { Length: > 0 } body)
            {
                await response.Body.WriteAsync(body, httpContext.RequestAborted);
            }
        }
    }
}
