using FlashMall.Kernel.Persistence;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlashMall.Payments;

/// <summary>Configuration section <c>Payments</c>: the provider, the webhook and reconciliation.</summary>
internal sealed class PaymentsOptions
{
    public const string SectionName = "Payments";

    /// <summary>Where the provider's webhooks reach this deployment; default this node's own address + <c>/api/payments/webhook</c>.</summary>
    public string? NotifyUrl { get; set; }

    public ProviderOptions Provider { get; set; } = new();

    public WebhookOptions Webhook { get; set; } = new();

    public ReconciliationOptions Reconciliation { get; set; } = new();

    public SimulatorOptions Simulator { get; set; } = new();
}

/// <summary><c>Payments:Provider</c>: how this node calls the provider's API.</summary>
internal sealed class ProviderOptions
{
    /// <summary>The provider API's base address; default this node's own <c>/simulator</c>.</summary>
    public string? BaseUrl { get; set; }

    /// <summary>The merchant's API key; default one generated under <c>Data:Directory</c>/keys (configure it on several nodes).</summary>
    public string? ApiKey { get; set; }

    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long one call may wait for the provider's answer.</summary>
    public TimeSpan ReadTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The breaker opens when at least this share of calls in <see cref="SamplingDuration"/> failed …</summary>
    public double FailureRatio { get; set; } = 0.5;

    /// <summary>… and there were at least this many calls.</summary>
    public int MinimumThroughput { get; set; } = 5;

    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an open breaker refuses calls before it lets one through to try.</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(15);
}

/// <summary><c>Payments:Webhook</c>: which signatures this node accepts.</summary>
internal sealed class WebhookOptions
{
    /// <summary>
    /// Every secret a webhook may be signed with; several during a rotation (the provider then
    /// sends one <c>v1</c> per secret). Default one generated under <c>Data:Directory</c>/keys.
    /// </summary>
    public string[] Secrets { get; set; } = [];

    /// <summary>A webhook whose timestamp is further than this from our clock is refused.</summary>
    public TimeSpan Tolerance { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary><c>Payments:Reconciliation</c>: the job that settles what webhooks did not.</summary>
internal sealed class ReconciliationOptions
{
    /// <summary>An intent still unsettled this long after its last change is looked up at the provider.</summary>
    public TimeSpan After { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary><c>Payments:Simulator</c>: the built-in stand-in provider mounted at <c>/simulator</c>.</summary>
internal sealed class SimulatorOptions
{
    /// <summary>
    /// Mount it. Default: on while no real provider is configured (<c>Payments:Provider:BaseUrl</c>
    /// unset), off once one is. Anyone can "pay" through it: never leave it on where money moves.
    /// </summary>
    public bool? Enabled { get; set; }

    /// <summary>The secrets it signs webhooks with, one <c>v1</c> each; default the ones this node accepts.</summary>
    public string[] SigningSecrets { get; set; } = [];

    /// <summary>The first retry of a failed delivery waits this long, each next one twice as long (at most 5 minutes).</summary>
    public TimeSpan RetryBase { get; set; } = TimeSpan.FromSeconds(1);

    public int MaxAttempts { get; set; } = 8;

    /// <summary>The share of events it sends twice (0 to 1), as real providers sometimes do.</summary>
    public double DuplicateRate { get; set; }
}

internal sealed class PaymentsOptionsValidator : IValidateOptions<PaymentsOptions>
{
    public ValidateOptionsResult Validate(string? name, PaymentsOptions options)
    {
        var errors = new List<string>();
        var p = options.Provider;
        if (p.BaseUrl is not null && !Uri.TryCreate(p.BaseUrl, UriKind.Absolute, out _))
        {
            errors.Add("Payments:Provider:BaseUrl must be an absolute URL.");
        }
        if (options.NotifyUrl is not null && !Uri.TryCreate(options.NotifyUrl, UriKind.Absolute, out _))
        {
            errors.Add("Payments:NotifyUrl must be an absolute URL.");
        }
        if (p.ConnectTimeout <= TimeSpan.Zero || p.ReadTimeout <= TimeSpan.Zero)
        {
            errors.Add("Payments:Provider timeouts must be positive.");
        }
        if (p.FailureRatio is <= 0 or > 1 || p.MinimumThroughput < 2 || p.SamplingDuration < TimeSpan.FromSeconds(1) || p.BreakDuration < TimeSpan.FromSeconds(1))
        {
            errors.Add("Payments:Provider breaker: FailureRatio in (0, 1], MinimumThroughput ≥ 2, SamplingDuration and BreakDuration ≥ 1 s.");
        }
        if (options.Webhook.Secrets.Any(s => s.Length < 16) || options.Simulator.SigningSecrets.Any(s => s.Length < 16))
        {
            errors.Add("Payments webhook secrets must be at least 16 characters.");
        }
        if (options.Webhook.Tolerance < TimeSpan.FromSeconds(1) || options.Reconciliation.After < TimeSpan.Zero)
        {
            errors.Add("Payments:Webhook:Tolerance must be at least a second and Payments:Reconciliation:After not negative.");
        }
        if (options.Simulator.DuplicateRate is < 0 or > 1 || options.Simulator.MaxAttempts < 1 || options.Simulator.RetryBase <= TimeSpan.Zero)
        {
            errors.Add("Payments:Simulator: DuplicateRate in [0, 1], MaxAttempts ≥ 1, RetryBase positive.");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>The merchant API key and the webhook secrets, from configuration or generated once under the data folder.</summary>
internal sealed partial class PaymentSecrets
{
    public PaymentSecrets(IOptions<PaymentsOptions> options, IOptions<DataOptions> data, ILogger<PaymentSecrets> logger)
    {
        var o = options.Value;
        ApiKey = o.Provider.ApiKey ?? Generated(data.Value, "payments-provider.key", "Payments:Provider:ApiKey", logger);
        Accepted = o.Webhook.Secrets.Length > 0 ? o.Webhook.Secrets : [Generated(data.Value, "payments-webhook.key", "Payments:Webhook:Secrets", logger)];
        Signing = o.Simulator.SigningSecrets.Length > 0 ? o.Simulator.SigningSecrets : Accepted;
    }

    public string ApiKey { get; }

    /// <summary>What the webhook endpoint accepts.</summary>
    public IReadOnlyList<string> Accepted { get; }

    /// <summary>What the simulator signs with.</summary>
    public IReadOnlyList<string> Signing { get; }

    private static string Generated(DataOptions data, string file, string key, ILogger logger)
    {
        var (secret, generated) = SecretFiles.LoadOrCreate(data, file, 32, out var path);
        if (generated)
        {
            LogGenerated(logger, path, key);
        }
        return secret;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Generated a payments secret at {Path}; configure {Key} when running more than one node")]
    private static partial void LogGenerated(ILogger logger, string path, string key);
}
