using System.Diagnostics;
using System.Reflection;
using Microsoft.Extensions.Hosting;

namespace FlashMall.Cli;

/// <summary>
/// Builds the server's own service provider without starting it: runs the server's entry point
/// (so every module registers exactly as in production, from the same configuration keys) and
/// stops it as soon as the host is built, before any hosted service — migrations, pollers, the web
/// server — starts. The technique is the one <c>dotnet ef</c> uses (the "HostBuilt" diagnostic
/// event of Microsoft.Extensions.Hosting).
/// </summary>
internal static class ServerServices
{
    private static readonly AsyncLocal<Capture?> Current = new();
    private static readonly object SubscribeLock = new();
    private static bool _subscribed;

    /// <summary>The built (never started) server host; dispose it when done.</summary>
    /// <param name="configuration">Configuration overrides, as <c>Key:Sub=value</c>.</param>
    public static IHost Build(IEnumerable<string> configuration)
    {
        EnsureSubscribed();
        var capture = new Capture();
        Current.Value = capture;
        try
        {
            var entry = typeof(global::Program).Assembly.EntryPoint
                ?? throw new InvalidOperationException("FlashMall.Server has no entry point.");
            // The server's log lines would mix with the tool's output (and break --json): warnings and up, to stderr.
            string[] quiet = ["Logging:LogLevel:Default=Warning", "Logging:LogLevel:Microsoft.EntityFrameworkCore=Warning", "Logging:LogLevel:Microsoft.EntityFrameworkCore.Migrations=Error",
                "Logging:Console:LogToStandardErrorThreshold=Trace"];
            string[] args = [.. quiet.Concat(configuration).Select(c => "--" + c)];
            try
            {
                var result = entry.Invoke(null, entry.GetParameters().Length == 0 ? null : [args]);
                if (result is Task task)
                {
                    task.GetAwaiter().GetResult();
                }
            }
            catch (Exception ex) when (Unwrap(ex) is StopTheHost)
            {
            }
            catch (Exception ex) when (Unwrap(ex) is { } inner && inner != ex)
            {
                throw inner;
            }
            return capture.Host ?? throw new InvalidOperationException("The server's entry point returned without building its host.");
        }
        finally
        {
            Current.Value = null;
        }
    }

    private static Exception Unwrap(Exception ex)
    {
        while (ex is TargetInvocationException { InnerException: { } inner })
        {
            ex = inner;
        }
        return ex is AggregateException { InnerExceptions.Count: 1 } aggregate ? Unwrap(aggregate.InnerExceptions[0]) : ex;
    }

    private static void EnsureSubscribed()
    {
        lock (SubscribeLock)
        {
            if (_subscribed)
            {
                return;
            }
            DiagnosticListener.AllListeners.Subscribe(new ListenerObserver());
            _subscribed = true;
        }
    }

    private sealed class Capture
    {
        public IHost? Host { get; set; }
    }

    private sealed class StopTheHost : Exception
    {
        public StopTheHost()
            : base("The host was captured before it started.")
        {
        }
    }

    private sealed class ListenerObserver : IObserver<DiagnosticListener>
    {
        public void OnCompleted()
        {
        }

        public void OnError(Exception error)
        {
        }

        public void OnNext(DiagnosticListener value)
        {
            if (value.Name == "Microsoft.Extensions.Hosting")
            {
                value.Subscribe(new HostingObserver());
            }
        }
    }

    private sealed class HostingObserver : IObserver<KeyValuePair<string, object?>>
    {
        public void OnCompleted()
        {
        }

        public void OnError(Exception error)
        {
        }

        public void OnNext(KeyValuePair<string, object?> value)
        {
            // Only a host built on behalf of this async flow: tests run several commands at once.
            if (value.Key == "HostBuilt" && value.Value is IHost host && Current.Value is { } capture)
            {
                capture.Host = host;
                throw new StopTheHost();
            }
        }
    }
}
