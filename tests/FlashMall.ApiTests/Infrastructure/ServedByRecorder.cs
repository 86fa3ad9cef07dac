using System.Collections.Concurrent;
using System.Data.Common;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Npgsql;

namespace FlashMall.ApiTests.Infrastructure;

/// <summary>One command a module context ran: its trace, its SQL, and whether the server it ran on was in recovery (a replica).</summary>
public sealed record ServedCommand(string? TraceId, string Sql, bool? OnReplica, string Server);

/// <summary>
/// A test interceptor (registered as an <see cref="IInterceptor"/> in the node's container, which
/// adds it to every module context, primary and replica alike): each time EF opens a connection
/// it asks that very connection <c>SELECT pg_is_in_recovery()</c>, and each command is recorded
/// with the answer for its connection and the trace id of the request that ran it.
/// </summary>
public sealed class ServedByRecorder : IDbConnectionInterceptor, IDbCommandInterceptor
{
    private readonly ConditionalWeakTable<DbConnection, StrongBox<bool>> _inRecovery = [];

    public ConcurrentQueue<ServedCommand> Commands { get; } = new();

    /// <summary>The commands a request with this trace id ran.</summary>
    public IReadOnlyList<ServedCommand> Of(string traceId) => [.. Commands.Where(c => c.TraceId == traceId)];

    public void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT pg_is_in_recovery()";
        _inRecovery.AddOrUpdate(connection, new StrongBox<bool>((bool)command.ExecuteScalar()!));
    }

    public async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT pg_is_in_recovery()";
        _inRecovery.AddOrUpdate(connection, new StrongBox<bool>((bool)(await command.ExecuteScalarAsync(cancellationToken))!));
    }

    public InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
    {
        Record(command);
        return result;
    }

    public ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(
        DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        Record(command);
        return ValueTask.FromResult(result);
    }

    public InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result)
    {
        Record(command);
        return result;
    }

    public ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(
        DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Record(command);
        return ValueTask.FromResult(result);
    }

    public InterceptionResult<object> ScalarExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<object> result)
    {
        Record(command);
        return result;
    }

    public ValueTask<InterceptionResult<object>> ScalarExecutingAsync(
        DbCommand command, CommandEventData eventData, InterceptionResult<object> result, CancellationToken cancellationToken = default)
    {
        Record(command);
        return ValueTask.FromResult(result);
    }

    private void Record(DbCommand command)
    {
        var connection = command.Connection!;
        bool? onReplica = _inRecovery.TryGetValue(connection, out var box) ? box.Value : null;
        var server = connection is NpgsqlConnection npgsql ? $"{npgsql.Host}:{npgsql.Port}" : "?";
        var trace = Activity.Current is { } activity ? activity.TraceId.ToHexString() : null;
        Commands.Enqueue(new ServedCommand(trace, command.CommandText, onReplica, server));
    }
}

/// <summary>W3C trace context headers, so a test knows the trace id of the request it sends.</summary>
public static class TraceContext
{
    /// <summary>A new trace id and the <c>traceparent</c> value that starts it.</summary>
    public static (string TraceId, string Header) New()
    {
        var trace = ActivityTraceId.CreateRandom().ToHexString();
        return (trace, $"00-{trace}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
    }

    public static async Task<HttpResponseMessage> GetTracedAsync(this HttpClient client, string url, string traceparent)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Add("traceparent", traceparent);
        return await client.SendAsync(request);
    }
}
