using System.Collections.Concurrent;
using System.Data.Common;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace FlashMall.Kernel.Persistence;

/// <summary>The names on the <c>FlashMall.Database</c> meter.</summary>
public static class DatabaseMetrics
{
    public const string MeterName = "FlashMall.Database";
    public const string CommandDuration = "flashmall.database.command.duration";
    public const string SlowCommands = "flashmall.database.slow_commands";
}

/// <summary>One command that took at least <c>Database:SlowQueryThreshold</c>. <see cref="Sql"/> holds no values.</summary>
public sealed record SlowQuery(
    DateTimeOffset At, double DurationMs, string Sql, string Kind, bool Failed, string? Module, string? Endpoint, string? TraceId, string? Server);

/// <summary>
/// Names what a background run is doing, so its slow queries say so (<c>job purge-idempotency</c>)
/// where a request's would give its route.
/// </summary>
public static class QueryOrigin
{
    private static readonly AsyncLocal<string?> Current = new();

    /// <summary>The origin set by the innermost <see cref="Begin"/> still open on this flow, if any.</summary>
    public static string? Name => Current.Value;

    /// <summary>Sets the origin until the result is disposed.</summary>
    public static IDisposable Begin(string name)
    {
        var previous = Current.Value;
        Current.Value = name;
        return new Restore(previous, null, restoreActivity: false);
    }

    /// <summary>
    /// The caller's trace and origin (its route, or the job), for work that runs outside its
    /// execution context: HybridCache runs a miss's factory without the caller's, so a slow
    /// catalog load would otherwise have neither a trace id nor an endpoint.
    /// </summary>
    public static FlowedOrigin Capture() =>
        new(Activity.Current, Name ?? SlowQueryInterceptor.EndpointOf(new HttpContextAccessor().HttpContext));

    /// <summary>What <see cref="Capture"/> took; <see cref="Resume"/> puts it back on the current flow until disposed.</summary>
    public readonly record struct FlowedOrigin(Activity? Activity, string? Name)
    {
        public IDisposable Resume()
        {
            var restore = new Restore(Current.Value, Activity.Current, restoreActivity: true);
            Current.Value = Name;
            if (Activity is not null)
            {
                Activity.Current = Activity;
            }
            return restore;
        }
    }

    private sealed class Restore(string? previous, Activity? previousActivity, bool restoreActivity) : IDisposable
    {
        public void Dispose()
        {
            Current.Value = previous;
            if (restoreActivity)
            {
                Activity.Current = previousActivity;
            }
        }
    }
}

/// <summary>The node's last slow queries, newest first; a fixed-size ring, so memory stays bounded.</summary>
public sealed class SlowQueryLog(IOptions<DatabaseOptions> options)
{
    private readonly SlowQuery?[] _ring = new SlowQuery?[options.Value.SlowQueryLogSize];
    private readonly Lock _lock = new();
    private long _next;

    public int Capacity => _ring.Length;

    /// <summary>How many are held now (at most <see cref="Capacity"/>).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return (int)Math.Min(_next, _ring.Length);
            }
        }
    }

    public void Add(SlowQuery query)
    {
        lock (_lock)
        {
            _ring[_next % _ring.Length] = query;
            _next++;
        }
    }

    /// <summary>Newest first: those <paramref name="filter"/> accepts (all when null), skipping <paramref name="skip"/>, and how many it accepts in all.</summary>
    public (IReadOnlyList<SlowQuery> Items, int Total) Recent(int skip, int take, Func<SlowQuery, bool>? filter = null)
    {
        lock (_lock)
        {
            var held = (int)Math.Min(_next, _ring.Length);
            var result = new List<SlowQuery>(Math.Clamp(held - skip, 0, take));
            var matched = 0;
            for (var i = 0; i < held; i++)
            {
                var query = _ring[(_next - 1 - i) % _ring.Length]!;
                if (filter is not null && !filter(query))
                {
                    continue;
                }
                if (matched >= skip && result.Count < take)
                {
                    result.Add(query);
                }
                matched++;
            }
            return (result, matched);
        }
    }
}

/// <summary>
/// SQL text with every literal's value replaced: quoted strings become <c>'?'</c>, dollar-quoted
/// bodies <c>$$?$$</c>, numbers <c>?</c>. Identifiers, parameter placeholders (<c>@p0</c>,
/// <c>$1</c>) and comments stay, so the statement can still be recognised and explained.
/// EF Core sends values as parameters, whose values are never logged; this catches the
/// constants a query inlines (and raw SQL that interpolated a value).
/// </summary>
public static class SqlRedactor
{
    public const int MaxLength = 4000;

    public static string Redact(string sql)
    {
        ArgumentNullException.ThrowIfNull(sql);
        var output = new StringBuilder(Math.Min(sql.Length, MaxLength + 16));
        var i = 0;
        while (i < sql.Length && output.Length < MaxLength)
        {
            var c = sql[i];
            if (c == '"' || c == '`' || c == '[')
            {
                // A quoted identifier: copied as is.
                var close = c == '[' ? ']' : c;
                var end = sql.IndexOf(close, i + 1);
                end = end < 0 ? sql.Length - 1 : end;
                output.Append(sql, i, end - i + 1);
                i = end + 1;
            }
            else if (c == '\'')
            {
                // A string literal ('' is an escaped quote; E'..\'..' a backslash escape).
                var escapes = i > 0 && (sql[i - 1] is 'E' or 'e');
                var j = i + 1;
                while (j < sql.Length)
                {
                    if (escapes && sql[j] == '\\')
                    {
                        j += 2;
                        continue;
                    }
                    if (sql[j] == '\'')
                    {
                        if (j + 1 < sql.Length && sql[j + 1] == '\'')
                        {
                            j += 2;
                            continue;
                        }
                        break;
                    }
                    j++;
                }
                output.Append("'?'");
                i = j + 1;
            }
            else if (c == '$' && DollarTag(sql, i) is { } tag)
            {
                var end = sql.IndexOf(tag, i + tag.Length, StringComparison.Ordinal);
                output.Append(tag).Append('?').Append(tag);
                i = end < 0 ? sql.Length : end + tag.Length;
            }
            else if (c == '-' && i + 1 < sql.Length && sql[i + 1] == '-')
            {
                var end = sql.IndexOf('\n', i);
                end = end < 0 ? sql.Length : end + 1;
                output.Append(sql, i, end - i);
                i = end;
            }
            else if (char.IsAsciiDigit(c) && (i == 0 || !IsWordChar(sql[i - 1])))
            {
                var j = i;
                while (j < sql.Length && (char.IsAsciiDigit(sql[j]) || sql[j] == '.' || sql[j] is 'e' or 'E' or 'x' or 'X' or '_'
                    || (char.IsAsciiHexDigit(sql[j]) && j > i && sql[i + 1] is 'x' or 'X')))
                {
                    j++;
                }
                output.Append('?');
                i = j;
            }
            else
            {
                var j = i;
                // Copy a whole word at once, so the digits inside identifiers (t0, p1, $1, @__p_0) stay.
                if (IsWordChar(c))
                {
                    while (j < sql.Length && IsWordChar(sql[j]))
                    {
                        j++;
                    }
                    output.Append(sql, i, j - i);
                    i = j;
                }
                else
                {
                    output.Append(c);
                    i++;
                }
            }
        }
        if (i < sql.Length)
        {
            output.Append(" …");
        }
        return output.ToString();
    }

    private static bool IsWordChar(char c) => char.IsLetterOrDigit(c) || c is '_' or '$' or '@' or ':';

    /// <summary>The opening <c>$tag$</c> at <paramref name="start"/>, or null for a <c>$1</c> placeholder or a lone dollar.</summary>
    private static string? DollarTag(string sql, int start)
    {
        var j = start + 1;
        while (j < sql.Length && (char.IsLetter(sql[j]) || sql[j] == '_' || (j > start + 1 && char.IsAsciiDigit(sql[j]))))
        {
            j++;
        }
        return j < sql.Length && sql[j] == '$' ? sql[start..(j + 1)] : null;
    }
}

/// <summary>
/// Times every command of every module context (SQLite and PostgreSQL, primary and replica) into
/// the <c>flashmall.database.command.duration</c> histogram; one that took at least
/// <c>Database:SlowQueryThreshold</c> is also counted, logged as a warning and kept in the
/// <see cref="SlowQueryLog"/> with its redacted SQL, where it came from and the trace id.
/// A reader's time is until its first results arrive (what the server spent, including waits on locks).
/// </summary>
public sealed partial class SlowQueryInterceptor : DbCommandInterceptor
{
    private readonly SlowQueryLog _log;
    private readonly IHttpContextAccessor _http;
    private readonly IOptionsMonitor<DatabaseOptions> _options;
    private readonly TimeProvider _clock;
    private readonly ILogger<SlowQueryInterceptor> _logger;
    private readonly Dictionary<Type, string> _modules;
    private readonly ConcurrentDictionary<Type, string?> _moduleOf = new();
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _slow;

    public SlowQueryInterceptor(
        SlowQueryLog log, IHttpContextAccessor http, IOptionsMonitor<DatabaseOptions> options, TimeProvider clock,
        IEnumerable<ModuleDbContextRegistration> modules, IMeterFactory meters, ILogger<SlowQueryInterceptor> logger)
    {
        _log = log;
        _http = http;
        _options = options;
        _clock = clock;
        _logger = logger;
        _modules = modules.ToDictionary(m => m.ContextType, m => m.Schema);
        var meter = meters.Create(DatabaseMetrics.MeterName);
        _duration = meter.CreateHistogram(DatabaseMetrics.CommandDuration, unit: "s",
            description: "Time each database command took (readers until their first results), by module and outcome.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        _slow = meter.CreateCounter<long>(DatabaseMetrics.SlowCommands, description: "Commands that took at least Database:SlowQueryThreshold, by module.");
    }

    public override int NonQueryExecuted(DbCommand command, CommandExecutedEventData eventData, int result)
    {
        Observe(command, eventData.Context, eventData.Duration, "non-query", failed: false);
        return result;
    }

    public override ValueTask<int> NonQueryExecutedAsync(DbCommand command, CommandExecutedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        Observe(command, eventData.Context, eventData.Duration, "non-query", failed: false);
        return ValueTask.FromResult(result);
    }

    public override object? ScalarExecuted(DbCommand command, CommandExecutedEventData eventData, object? result)
    {
        Observe(command, eventData.Context, eventData.Duration, "scalar", failed: false);
        return result;
    }

    public override ValueTask<object?> ScalarExecutedAsync(DbCommand command, CommandExecutedEventData eventData, object? result, CancellationToken cancellationToken = default)
    {
        Observe(command, eventData.Context, eventData.Duration, "scalar", failed: false);
        return ValueTask.FromResult(result);
    }

    public override DbDataReader ReaderExecuted(DbCommand command, CommandExecutedEventData eventData, DbDataReader result)
    {
        Observe(command, eventData.Context, eventData.Duration, "reader", failed: false);
        return result;
    }

    public override ValueTask<DbDataReader> ReaderExecutedAsync(DbCommand command, CommandExecutedEventData eventData, DbDataReader result, CancellationToken cancellationToken = default)
    {
        Observe(command, eventData.Context, eventData.Duration, "reader", failed: false);
        return ValueTask.FromResult(result);
    }

    public override void CommandFailed(DbCommand command, CommandErrorEventData eventData) =>
        Observe(command, eventData.Context, eventData.Duration, eventData.ExecuteMethod.ToString(), failed: true);

    public override Task CommandFailedAsync(DbCommand command, CommandErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        Observe(command, eventData.Context, eventData.Duration, eventData.ExecuteMethod.ToString(), failed: true);
        return Task.CompletedTask;
    }

    private void Observe(DbCommand command, DbContext? context, TimeSpan duration, string kind, bool failed)
    {
        var module = context is null ? null : ModuleOf(context.GetType());
        var outcome = failed ? "failed" : "ok";
        _duration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("module", module), new KeyValuePair<string, object?>("outcome", outcome));
        if (duration < _options.CurrentValue.SlowQueryThreshold)
        {
            return;
        }
        _slow.Add(1, new KeyValuePair<string, object?>("module", module));
        var sql = SqlRedactor.Redact(command.CommandText ?? "");
        var query = new SlowQuery(
            _clock.GetUtcNow(), Math.Round(duration.TotalMilliseconds, 3), sql, kind, failed, module, Endpoint(), TraceId(), Server(command.Connection));
        _log.Add(query);
        LogSlow(_logger, query.DurationMs, module, query.Endpoint, query.TraceId, sql);
    }

    private string? ModuleOf(Type contextType) =>
        _moduleOf.GetOrAdd(contextType, type => _modules.FirstOrDefault(m => m.Key.IsAssignableFrom(type)).Value);

    /// <summary><c>GET /api/products/{id}</c> for a request, the <see cref="QueryOrigin"/> for background work.</summary>
    private string? Endpoint() => _http.HttpContext is { } http ? EndpointOf(http) : QueryOrigin.Name;

    /// <summary><c>GET /api/products/{id}</c>: the method and route pattern of the request's endpoint.</summary>
    internal static string? EndpointOf(HttpContext? http)
    {
        if (http is not null)
        {
            var route = (http.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText;
            if (route is null)
            {
                return $"{http.Request.Method} (no endpoint)";
            }
            route = route.StartsWith('/') ? route : "/" + route;
            return $"{http.Request.Method} {(route.Length > 1 ? route.TrimEnd('/') : route)}";
        }
        return null;
    }

    private static string? TraceId() =>
        Activity.Current is { } activity && activity.TraceId != default ? activity.TraceId.ToHexString() : null;

    private static string? Server(DbConnection? connection) => connection switch
    {
        NpgsqlConnection npgsql when npgsql.State != System.Data.ConnectionState.Closed => $"{npgsql.Host}:{npgsql.Port}",
        NpgsqlConnection => "postgres",
        null => null,
        _ => "sqlite",
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Slow query: {DurationMs} ms in {Module} for {Endpoint} (trace {TraceId}): {Sql}")]
    private static partial void LogSlow(ILogger logger, double durationMs, string? module, string? endpoint, string? traceId, string sql);
}
