using Microsoft.Extensions.Options;

namespace FlashMall.Server.Hosting;

internal static class StartupChecks
{
    /// <summary>Exit code when the configuration is invalid.</summary>
    public const int InvalidConfiguration = 2;

    /// <summary>Runs the node; a bad configuration ends it with one clear message and exit code 2, not a stack trace.</summary>
    public static async Task<int> RunWithStartupChecksAsync(this WebApplication app)
    {
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
    }
}
