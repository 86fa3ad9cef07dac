using FlashMall.Accounts.Endpoints;
using FlashMall.Accounts.Persistence;
using FlashMall.Accounts.Security;
using FlashMall.Contracts.Accounts;
using FlashMall.Kernel.Hosting;
using FlashMall.Kernel.Http;
using FlashMall.Kernel.Persistence;
using FlashMall.Kernel.Problems;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Configuration;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlashMall.Accounts;

/// <summary>Users, passwords, tokens and roles; also the authentication scheme every module relies on.</summary>
public static class AccountsModule
{
    public static IHostApplicationBuilder AddAccounts(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        builder.AddModuleDbContext<AccountsDbContext, AccountsSqliteDbContext, AccountsPostgresDbContext>(AccountsDbContext.Schema);

        services.AddOptions<JwtOptions>().BindConfiguration(JwtOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<JwtOptions>, JwtOptionsValidator>();
        services.AddSingleton<IValidateOptions<JwtOptions>, JwtSigningKeyValidator>();
        services.AddOptions<AccountsOptions>().BindConfiguration(AccountsOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AccountsOptions>, AccountsOptionsValidator>();
        services.AddOptions<BootstrapOptions>().BindConfiguration(BootstrapOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<BootstrapOptions>, BootstrapOptionsValidator>();

        services.AddSingleton<PasswordHashing>();
        services.AddSingleton<LoginFailureThrottle>();
        services.AddSingleton(sp => new TokenService(
            sp.GetRequiredService<IOptions<JwtOptions>>().Value,
            SigningKeyStore.Load(sp.GetRequiredService<IOptions<JwtOptions>>().Value, sp.GetRequiredService<IOptions<DataOptions>>().Value,
                sp.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(SigningKeyStore))),
            sp.GetRequiredService<TimeProvider>()));
        services.AddStartupTask<AdminBootstrap>();
        services.AddScoped<IAccountDirectory, AccountDirectory>();

        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        services.AddSingleton<CachingTokenHandler>();
        services.AddSingleton<IHotPathAuthenticator, RememberedBuyerTokens>();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<TokenService, CachingTokenHandler>((bearer, tokens, handler) =>
            {
                handler.MapInboundClaims = false;
                bearer.TokenHandlers.Clear();
                bearer.TokenHandlers.Add(handler);
                bearer.MapInboundClaims = false;
                bearer.TokenValidationParameters = tokens.ValidationParameters();
                bearer.Events = new JwtBearerEvents
                {
                    OnChallenge = WriteChallengeProblemAsync,
                    OnTokenValidated = PrivilegedRoles.CheckStillHeldAsync,
                };
            });
        services.AddAuthorizationBuilder()
            .AddPolicy(Policies.Merchandiser, policy => policy.RequireRole(Roles.Merchandiser, Roles.Admin))
            .AddPolicy(Policies.Operator, policy => policy.RequireRole(Roles.Operator, Roles.Admin))
            .AddPolicy(Policies.Admin, policy => policy.RequireRole(Roles.Admin));

        var authPerMinute = builder.Configuration.GetSection(AccountsOptions.SectionName).Get<AccountsOptions>()?.AuthRequestsPerIpPerMinute
            ?? new AccountsOptions().AuthRequestsPerIpPerMinute;
        services.Configure<RateLimiterOptions>(options =>
            options.AddPerIpPolicy(AccountEndpoints.AuthRateLimitPolicy, builder.Configuration, authPerMinute));
        return builder;
    }

    public static IEndpointRouteBuilder MapAccounts(this IEndpointRouteBuilder routes)
    {
        routes.MapAccountEndpoints();
        routes.MapAddressEndpoints();
        routes.MapAdminUserEndpoints();
        return routes;
    }

    /// <summary>401 as problem+json: <c>unauthorized</c> without a token, <c>invalid_token</c> with a bad one.</summary>
    private static async Task WriteChallengeProblemAsync(JwtBearerChallengeContext context)
    {
        context.HandleResponse();
        var badToken = context.AuthenticateFailure is not null;
        context.Response.Headers.WWWAuthenticate = badToken ? "Bearer error=\"invalid_token\"" : "Bearer";
        var problem = badToken
            ? Problems.Unauthorized(AccountCodes.InvalidToken, "The access token is invalid or expired.")
            : Problems.Unauthorized(ProblemCodes.Unauthorized, "Sign in: send Authorization: Bearer <accessToken>.");
        await problem.ExecuteAsync(context.HttpContext);
    }
}
