using System.ComponentModel.DataAnnotations;
using FlashMall.Kernel.Hosting;
using FlashMall.Kernel.Messaging;
using FlashMall.Kernel.Persistence;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace FlashMall.RabbitMq;

/// <summary><c>Messaging:RabbitMq:*</c>: how FlashMall uses the broker.</summary>
public sealed class RabbitMqOptions
{
    public const string SectionName = "Messaging:RabbitMq";

    /// <summary>Prefix of every exchange and queue, so several deployments (or test runs) can share a broker.</summary>
    [RegularExpression("^[a-z0-9][a-z0-9.-]{0,39}$")]
    public string Prefix { get; set; } = "flashmall";

    /// <summary>Unacknowledged messages a consumer holds at once (per queue).</summary>
    [Range(1, 1000)]
    public ushort Prefetch { get; set; } = 256;

    /// <summary>Deliveries of one message before the broker dead-letters it (a consumer that dies on it every time).</summary>
    [Range(2, 1000)]
    public int DeliveryLimit { get; set; } = 20;

    /// <summary>Aggregates published at once; one aggregate's events wait for the previous confirm.</summary>
    [Range(1, 512)]
    public int PublishConcurrency { get; set; } = 64;
}

[OptionsValidator]
internal sealed partial class RabbitMqOptionsValidator : IValidateOptions<RabbitMqOptions>;

public static class RabbitMqRegistration
{
    public const string ConnectionName = "RabbitMq";

    /// <summary>
    /// With <c>Messaging:Transport=RabbitMq</c>: the relay publishes to RabbitMQ
    /// (<c>ConnectionStrings:RabbitMq</c>, an <c>amqp://</c> URI) and <c>all</c>/<c>worker</c>
    /// nodes consume every subscription's queue. Otherwise the embedded in-process transport stays.
    /// </summary>
    public static IHostApplicationBuilder AddRabbitMqWhenConfigured(this IHostApplicationBuilder builder)
    {
        // Read as text: an unknown value is reported by the kernel's validation of Messaging:*, not here.
        var transport = builder.Configuration[$"{MessagingOptions.SectionName}:{nameof(MessagingOptions.Transport)}"];
        if (!string.Equals(transport, nameof(MessagingTransport.RabbitMq), StringComparison.OrdinalIgnoreCase))
        {
            return builder;
        }

        builder.Services.AddOptions<RabbitMqOptions>().BindConfiguration(RabbitMqOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<RabbitMqOptions>, RabbitMqOptionsValidator>();
        builder.Services.AddOptions<RabbitMqConnectionOptions>()
            .Configure<IConfiguration>((o, configuration) => o.ConnectionString = configuration.GetConnectionString(ConnectionName) ?? "")
            .Validate(o => Uri.TryCreate(o.ConnectionString, UriKind.Absolute, out var uri) && uri.Scheme is "amqp" or "amqps",
                "ConnectionStrings:RabbitMq must be an amqp:// or amqps:// URI when Messaging:Transport is RabbitMq.")
            .ValidateOnStart();

        builder.Services.AddSingleton<RabbitMqConnection>();
        builder.Services.AddSingleton<RabbitMqTopology>();
        builder.Services.Replace(ServiceDescriptor.Singleton<IOutboxTransport, RabbitMqTransport>());
        if (NodeRoles.RunsBackgroundWork(builder.Configuration))
        {
            builder.Services.AddHostedService<RabbitMqConsumers>();
            builder.Services.AddHostedService<RabbitMqDeadLetterArchiver>();
            builder.Services.AddHostedService<RabbitMqQueueDepth>();
            builder.Services.AddHealthChecks().AddCheck<RabbitMqHealthCheck>("rabbitmq", tags: [DatabaseRegistration.ReadyTag]);
        }
        return builder;
    }
}

internal sealed class RabbitMqConnectionOptions
{
    public string ConnectionString { get; set; } = "";

    /// <summary>
    /// How long one attempt to connect (socket, handshake, open) may take before it fails and is retried; the
    /// client's abort of the failed attempt adds up to 5 s.
    /// </summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>Ready while the connection to the broker is open (it recovers by itself after a broker restart).</summary>
internal sealed class RabbitMqHealthCheck(RabbitMqConnection connection) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(connection.IsOpen
            ? HealthCheckResult.Healthy("connected")
            : HealthCheckResult.Unhealthy("Not connected to RabbitMQ; retrying."));
}
