using Microsoft.Extensions.Options;

namespace FlashMall.Server.Hosting;

internal static partial class StartupChecks
{
    /// <summary>Exit code when the node could not start (a store unreachable, a migration failed).</summary>
    public const int StartupFailed = 1;

    /// <summary>Exit code when the configuration is invalid.</summary>
    public const int InvalidConfiguration = 2;

    /// <summary>
    /// Runs the node. A failure to start ends it with one clear message on stderr (the full
    /// exception goes to the log) and a meaningful exit code, not a crash dump.
    /// </summary>
    public static async Task<int> RunWithStartupChecksAsync(this WebApplication app)
    {
        var started = false;
        app.Lifetime.ApplicationStarted.Register(() => started = true);
        try
        {
            app.LogStartup();
            await app.RunAsync();
            return 0;
        }
        catch (OptionsValidationException ex)
        {
            await Console.Error.WriteLineAsync($"FlashMall cannot start: the configuration is invalid.{Environment.NewLine}  {string.Join($"{Environment.NewLine}  ", ex.Failures)}");
            return InvalidConfiguration;
        }
        catch (InvalidOperationException ex) when (!started && ex.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal))
        {
            // The binder's words name the key and the value (e.g. Messaging:Transport=Kafka).
            await Console.Error.WriteLineAsync($"FlashMall cannot start: the configuration is invalid.{Environment.NewLine}  {ex.Message}");
            return InvalidConfiguration;
        }
        catch (Exception ex) when (!started)
        {
            LogStartupFailed(app.Logger, ex);
            await Console.Error.WriteLineAsync($"FlashMall cannot start: {ex.GetType().Name}: {ex.Message}");
            return StartupFailed;
        }
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "The node failed to start")]
    private static partial void LogStartupFailed(ILogger logger, Exception exception);
}
