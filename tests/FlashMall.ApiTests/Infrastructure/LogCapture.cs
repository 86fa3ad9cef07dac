using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace FlashMall.ApiTests.Infrastructure;

/// <summary>Keeps every log event the server writes (message, state values, scopes, exception) for assertions.</summary>
public sealed class LogCapture : ILoggerProvider, ISupportExternalScope
{
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public ConcurrentQueue<string> Lines { get; } = new();

    public string All => string.Join('\n', Lines);

    public ILogger CreateLogger(string categoryName) => new CaptureLogger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    private sealed class CaptureLogger(LogCapture capture, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => capture._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var parts = new List<string> { $"{logLevel} {category}: {formatter(state, exception)}" };
            if (state is IEnumerable<KeyValuePair<string, object?>> values)
            {
                parts.AddRange(values.Select(v => $"{v.Key}={v.Value}"));
            }
            // As the JSON console writes them: a scope of pairs as its pairs, any other by its text.
            capture._scopes.ForEachScope((scope, list) => list.Add(scope is IEnumerable<KeyValuePair<string, object?>> pairs
                ? $"scope={{{string.Join(", ", pairs.Select(p => $"{p.Key}={p.Value}"))}}}"
                : $"scope={scope}"), parts);
            if (exception is not null)
            {
                parts.Add(exception.ToString());
            }
            var line = string.Join(" | ", parts);
            capture.Lines.Enqueue(line);
            if (logLevel >= LogLevel.Error)
            {
                HttpAssertions.LastError = line;
            }
        }
    }
}
