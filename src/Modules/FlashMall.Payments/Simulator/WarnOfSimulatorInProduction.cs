using FlashMall.Kernel.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FlashMall.Payments.Simulator;

/// <summary>Says loudly, at start-up outside Development, that the simulator lets anyone mark an order paid.</summary>
internal sealed partial class WarnOfSimulatorInProduction(IHostEnvironment environment, ILogger<WarnOfSimulatorInProduction> logger) : IStartupTask
{
    public int Order => StartupTaskOrder.Bootstrap;

    public Task RunAsync(CancellationToken cancellationToken)
    {
        if (!environment.IsDevelopment() && !environment.IsEnvironment("Testing"))
        {
            LogSimulatorOn(logger, environment.EnvironmentName);
        }
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The payment simulator is mounted at /simulator in {Environment}: anyone can mark an order paid through it. " +
        "Configure a real provider (Payments:Provider:BaseUrl) or set Payments:Simulator:Enabled=false wherever money moves")]
    private static partial void LogSimulatorOn(ILogger logger, string environment);
}
