using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using FlashMall.Kernel.Hosting;
using FlashMall.Kernel.Observability;
using FlashMall.Kernel.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FlashMall.Kernel.Messaging;

/// <summary>Consumes one integration event type for a consumer module. Its writes join the consumer's transaction.</summary>
public interface IIntegrationEventConsumer<in TEvent>
{
    Task ConsumeAsync(TEvent integrationEvent, CancellationToken cancellationToken);
}

/// <summary><c>Messaging:*</c>: delivery of integration events.</summary>
public sealed class MessagingOptions
{
    public const string SectionName = "Messaging";

    /// <summary>Attempts before a message is dead-lettered.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 5;

    /// <summary>First retry delay; it doubles with each attempt (at most 5 minutes).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The wait before the next attempt after <paramref name="failedAttempts"/> failures: doubling, at most 5 minutes.</summary>
    public TimeSpan RetryDelayAfter(int failedAttempts) =>
        TimeSpan.FromTicks(Math.Min(RetryBaseDelay.Ticks << Math.Clamp(failedAttempts - 1, 0, 16), TimeSpan.FromMinutes(5).Ticks));

    /// <summary>How often the relay looks for messages when no commit woke it.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// <c>InProcess</c> (embedded default: the relay calls the consumers) or <c>RabbitMq</c>
    /// (the relay publishes to RabbitMQ, <c>ConnectionStrings:RabbitMq</c>; consumers read their queues).
    /// </summary>
    public MessagingTransport Transport { get; set; } = MessagingTransport.InProcess;

    /// <summary>How long a node's hold on a module's relay lasts without renewal; one node relays a module at a time.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan RelayLease { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Lanes a RabbitMQ queue's consumer works at once (by aggregate); one aggregate's events stay in order.</summary>
    [Range(1, 64)]
    public int Parallelism { get; set; } = 8;
}

public enum MessagingTransport
{
    InProcess,
    RabbitMq,
}

[OptionsValidator]
internal sealed partial class MessagingOptionsValidator : IValidateOptions<MessagingOptions>;

/// <summary>
/// One consumer's subscription to one event type. <paramref name="OneAtATime"/>: the consumer
/// also acts outside its transaction (a Redis script), so its messages get a transaction each —
/// a run rolled back for one message's sake would leave the others' outside effects behind.
/// </summary>
public sealed record IntegrationEventSubscription(
    string EventType, Type ConsumerContext, string Consumer, Func<IServiceProvider, string, CancellationToken, Task> Invoke, bool OneAtATime = false);

public static class IntegrationEvents
{
    /// <summary>The stable name an event travels under: its type's full name.</summary>
    public static string TypeName(Type eventType) => eventType.FullName ?? eventType.Name;

    /// <summary>
    /// Writes <paramref name="integrationEvent"/> to this module's outbox. It commits (or rolls
    /// back) with the caller's own changes in the same <c>SaveChanges</c> or transaction.
    /// </summary>
    public static void AddIntegrationEvent<TEvent>(this DbContext db, string aggregateId, TEvent integrationEvent, IIdGenerator ids, TimeProvider clock)
        where TEvent : class
    {
        // The storing request's trace travels with the event, so one trace runs request → outbox → consumer.
        var payload = TraceEnvelope.Stamp(JsonSerializer.Serialize(integrationEvent), Telemetry.TraceParentOf(System.Diagnostics.Activity.Current));
        db.Add(OutboxMessage.Create(ids.NewId(), aggregateId, TypeName(typeof(TEvent)), payload, clock.GetUtcNow()));
        OutboxSaveInterceptor.MarkWritingEvents(db);
    }

    /// <summary>
    /// Subscribes <typeparamref name="TConsumer"/> (in the module that owns
    /// <typeparamref name="TConsumerContext"/>) to <typeparamref name="TEvent"/>. The record of
    /// processed messages lives in that context, in the consumer's transaction.
    /// </summary>
    public static IServiceCollection AddIntegrationEventConsumer<TConsumerContext, TEvent, TConsumer>(
        this IServiceCollection services, string consumer, bool oneAtATime = false)
        where TConsumerContext : DbContext
        where TEvent : class
        where TConsumer : class, IIntegrationEventConsumer<TEvent>
    {
        services.AddScoped<TConsumer>();
        services.AddSingleton(new IntegrationEventSubscription(TypeName(typeof(TEvent)), typeof(TConsumerContext), consumer,
            (scope, payload, ct) => scope.GetRequiredService<TConsumer>().ConsumeAsync(
                JsonSerializer.Deserialize<TEvent>(payload) ?? throw new JsonException($"Empty {typeof(TEvent).Name} payload."), ct), oneAtATime));
        return services;
    }
}

/// <summary>
/// Wakes the relay when a commit wrote outbox messages, so delivery does not wait for the next
/// poll. One per process (interceptors are created without the container); a spurious wake-up
/// only costs one query.
/// </summary>
internal sealed class OutboxSignal
{
    public static readonly OutboxSignal Instance = new();

    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Take this before looking for work; it completes at the next commit after that.</summary>
    public Task Next => Volatile.Read(ref _next).Task;

    public void Set() => Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
}

internal sealed class OutboxSaveInterceptor : SaveChangesInterceptor
{
    public static readonly OutboxSaveInterceptor Instance = new();

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<DbContext, object> WritingEvents = new();

    /// <summary>Called when an event is added, so saving needs no scan of the change tracker.</summary>
    internal static void MarkWritingEvents(DbContext db) => WritingEvents.AddOrUpdate(db, true);

    public override async ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        if (eventData.Context is { } db && WritingEvents.Remove(db))
        {
            await db.RunAfterCommitAsync(_ =>
            {
                OutboxSignal.Instance.Set();
                return Task.CompletedTask;
            }, cancellationToken);
        }
        return result;
    }
}
