using System.Globalization;
using System.Threading.RateLimiting;
using FlashMall.Kernel.Problems;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FlashMall.Kernel.Http;

/// <summary><c>RateLimiting:Enabled</c>: <c>false</c> lifts request-rate limits (never lockout or per-sale limits) for trusted load tests.</summary>
public sealed class RateLimitingOptions
{
    public const string SectionName = "RateLimiting";

    public bool Enabled { get; set; } = true;
}

/// <summary>
/// Endpoint metadata: a fixed-window limit per client IP on top of the endpoint's own policy
/// (e.g. per buyer), for endpoints where one address must not take everything yet thousands of
/// phones may share it behind a carrier's NAT: set it generously.
/// </summary>
public sealed record PerIpLimit(string Name, Func<IServiceProvider, int> PermitsPerMinute);

public static class RateLimitingRegistration
{
    public static IHostApplicationBuilder AddRequestRateLimiting(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RateLimitingOptions>().BindConfiguration(RateLimitingOptions.SectionName);
        builder.Services.AddRateLimiter(options =>
        {
            options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                if (context.GetEndpoint()?.Metadata.GetMetadata<PerIpLimit>() is not { } limit
                    || !builder.Configuration.GetValue($"{RateLimitingOptions.SectionName}:{nameof(RateLimitingOptions.Enabled)}", true))
                {
                    return RateLimitPartition.GetNoLimiter("none");
                }
                return RateLimitPartition.GetFixedWindowLimiter($"{limit.Name}:{ClientAddress.Of(context)}", _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = limit.PermitsPerMinute(context.RequestServices),
                    Window = TimeSpan.FromMinutes(1),
                    QueueLimit = 0,
                });
            });
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = async (context, cancellationToken) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
                context.HttpContext.Response.Headers.RetryAfter = Math.Max(1, Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                await Problems.Problems.TooManyRequests(ProblemCodes.RateLimited, "Too many requests; retry after the given delay.")
                    .ExecuteAsync(context.HttpContext);
            };
        });
        return builder;
    }

    /// <summary>A fixed-window limit per client IP (it tells the client when to retry), lifted when <c>RateLimiting:Enabled=false</c>.</summary>
    public static RateLimiterOptions AddPerIpPolicy(this RateLimiterOptions options, string policyName, IConfiguration configuration, int permitsPerMinute) =>
        options.AddPolicy(policyName, context =>
        {
            var enabled = configuration.GetValue($"{RateLimitingOptions.SectionName}:{nameof(RateLimitingOptions.Enabled)}", true);
            if (!enabled)
            {
                return RateLimitPartition.GetNoLimiter("disabled");
            }
            var ip = ClientAddress.Of(context) ?? "unknown";
            return RateLimitPartition.GetFixedWindowLimiter(ip, _ => new FixedWindowRateLimiterOptions
            {
                PermitLimit = permitsPerMinute,
                Window = TimeSpan.FromMinutes(1),
                QueueLimit = 0,
            });
        });

    /// <summary>
    /// A fixed-window limit per signed-in user (per IP for anonymous callers), lifted when
    /// <c>RateLimiting:Enabled=false</c>. For endpoints where one account, not one address, is the
    /// unit of abuse: thousands of phones share a carrier's NAT address.
    /// </summary>
    public static RateLimiterOptions AddPerUserPolicy(this RateLimiterOptions options, string policyName, IConfiguration configuration, int permits, TimeSpan window) =>
        options.AddPolicy(policyName, context =>
        {
            var enabled = configuration.GetValue($"{RateLimitingOptions.SectionName}:{nameof(RateLimitingOptions.Enabled)}", true);
            if (!enabled)
            {
                return RateLimitPartition.GetNoLimiter("disabled");
            }
            var caller = context.User.UserIdValue() is { } userId
                ? $"user:{userId}"
                : $"ip:{ClientAddress.Of(context)}";
            return RateLimitPartition.GetFixedWindowLimiter(caller, _ => new FixedWindowRateLimiterOptions
            {
                PermitLimit = permits,
                Window = window,
                QueueLimit = 0,
            });
        });
}
