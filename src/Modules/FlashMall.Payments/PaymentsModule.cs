using FlashMall.Contracts.Payments;
using FlashMall.Kernel.Hosting;
using FlashMall.Kernel.Persistence;
using FlashMall.Kernel.Scheduling;
using FlashMall.Payments.Endpoints;
using FlashMall.Payments.Jobs;
using FlashMall.Payments.Persistence;
using FlashMall.Payments.Provider;
using FlashMall.Payments.Simulator;
using FlashMall.Payments.Webhooks;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

namespace FlashMall.Payments;

/// <summary>
/// Payments: intents (one active per order), the provider port with its HTTP adapter (1 s connect,
/// 5 s read, a circuit breaker), signed webhooks applied exactly once, operators' refunds, the
/// reconciliation job, and the built-in simulator provider at <c>/simulator</c>.
/// </summary>
public static class PaymentsModule
{
    public static IHostApplicationBuilder AddPayments(this IHostApplicationBuilder builder)
    {
        builder.AddModuleDbContext<PaymentsDbContext, PaymentsSqliteDbContext, PaymentsPostgresDbContext>(PaymentsDbContext.Schema);
        var services = builder.Services;
        services.AddOptions<PaymentsOptions>().BindConfiguration(PaymentsOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<PaymentsOptions>, PaymentsOptionsValidator>();
        services.AddSingleton<PaymentSecrets>();
        services.AddSingleton<SelfAddress>();
        services.AddScoped<PaymentSettlement>();
        services.AddScoped<PaymentIntents>();
        services.AddScoped<IOpenPayments, OpenPayments>();

        var provider = builder.Configuration.GetSection($"{PaymentsOptions.SectionName}:Provider").Get<ProviderOptions>() ?? new ProviderOptions();
        services.AddHttpClient<IPaymentProvider, HttpPaymentProvider>(client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                ConnectTimeout = provider.ConnectTimeout,
                PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            })
            .AddResilienceHandler("payment-provider", pipeline => pipeline
                // Outside the timeout, so a timed-out call counts as a failure towards opening it.
                .AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
                {
                    FailureRatio = provider.FailureRatio,
                    MinimumThroughput = provider.MinimumThroughput,
                    SamplingDuration = provider.SamplingDuration,
                    BreakDuration = provider.BreakDuration,
                })
                .AddTimeout(provider.ReadTimeout));

        services.AddScheduledJob<ReconcilePaymentsJob>(ReconcilePaymentsJob.Name,
            "Settles payment intents whose webhooks were lost or whose provider answer was unknown, and finishes refunds.",
            JobSchedule.Every(TimeSpan.FromSeconds(30)));

        if (builder.Configuration.GetValue<bool?>($"{PaymentsOptions.SectionName}:Simulator:Enabled") ?? provider.BaseUrl is null)
        {
            services.AddStartupTask<WarnOfSimulatorInProduction>();
            services.AddSingleton<SimulatorStore>();
            services.AddSingleton<WebhookSender>();
            services.AddHostedService(sp => sp.GetRequiredService<WebhookSender>());
            services.AddHttpClient(WebhookSender.ClientName, client => client.Timeout = TimeSpan.FromSeconds(10));
        }
        return builder;
    }

    public static IEndpointRouteBuilder MapPayments(this IEndpointRouteBuilder routes)
    {
        routes.MapPaymentEndpoints();
        routes.MapWebhookEndpoint();
        if (routes.ServiceProvider.GetService<SimulatorStore>() is not null)
        {
            routes.MapSimulatorEndpoints();
        }
        return routes;
    }
}
