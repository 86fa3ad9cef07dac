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
    /// <summary>503: the node is saturated with core requests too (<c>LoadShedding:CoreMaxConcurrent</c>); retry after <c>Retry-After</c>.</summary>
    public const string Overloaded = "overloaded";
    /// <summary>421: this node's <c>--role</c> does not serve the endpoint (a core node asked for a non-core one, or a worker for any API).</summary>
    public const string WrongRole = "wrong_role";

    /// <summary>401: <c>Security:RequireSignedRequests</c> is on and a signing header is missing or malformed.</summary>
    public const string SignatureMissing = "signature_missing";
    /// <summary>401: the <c>X-Signature</c> does not match the request.</summary>
    public const string SignatureInvalid = "signature_invalid";
    /// <summary>401: <c>X-Timestamp</c> is outside the allowed window around the server's clock.</summary>
    public const string TimestampStale = "timestamp_stale";
    /// <summary>401: the <c>X-Nonce</c> was already used within the window.</summary>
    public const string NonceReplayed = "nonce_replayed";
    /// <summary>401: the <c>X-App-Key</c> is not one of <c>Security:Apps</c>.</summary>
    public const string AppKeyUnknown = "app_key_unknown";

    public const string IdempotencyKeyReused = "idempotency_key_reused";
    public const string IdempotencyInFlight = "idempotency_in_flight";
    public const string IdempotencyKeyInvalid = "idempotency_key_invalid";
}
