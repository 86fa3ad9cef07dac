namespace FlashMall.Kernel.Problems;

/// <summary>
/// Stable, machine-readable codes carried in every refusal's <c>code</c> field.
/// Clients switch on these; never rename one.
/// </summary>
public static class ProblemCodes
{
    public const string ValidationFailed = "validation_failed";
    public const string InvalidJson = "invalid_json";
    public const string InvalidRequest = "invalid_request";
    public const string PayloadTooLarge = "payload_too_large";
    public const string UnsupportedMediaType = "unsupported_media_type";
    public const string Unauthorized = "unauthorized";
    public const string Forbidden = "forbidden";
    public const string NotFound = "not_found";
    public const string MethodNotAllowed = "method_not_allowed";
    public const string RateLimited = "rate_limited";
    public const string ServerBusy = "server_busy";
    public const string InternalError = "internal_error";
    public const string ServiceUnavailable = "service_unavailable";
    public const string RiskBlocked = "risk_blocked";
    /// <summary>503: a non-core endpoint refused while the <c>noncore.shed</c> switch is on (with <c>Retry-After</c>).</summary>
    public const string Degraded = "degraded";

    public const string IdempotencyKeyReused = "idempotency_key_reused";
    public const string IdempotencyInFlight = "idempotency_in_flight";
    public const string IdempotencyKeyInvalid = "idempotency_key_invalid";
}
