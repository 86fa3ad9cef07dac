using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FlashMall.Kernel.Problems;

public static class ProblemDetailsSetup
{
    /// <summary>
    /// Every refusal, from a handler, the framework (404, 405, 413, bad JSON) or an exception,
    /// leaves as problem+json with <c>code</c> and <c>traceId</c>, and never with a stack trace.
    /// </summary>
    public static IHostApplicationBuilder AddProblemResponses(this IHostApplicationBuilder builder)
    {
        builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            var problem = context.ProblemDetails;
            problem.Extensions["traceId"] = Activity.Current?.TraceId.ToHexString() ?? context.HttpContext.TraceIdentifier;
            var status = problem.Status ?? context.HttpContext.Response.StatusCode;
            if (!problem.Extensions.ContainsKey("code"))
            {
                problem.Extensions["code"] = CodeForStatus(status);
            }
            problem.Detail ??= DefaultDetail(status);
        });
        builder.Services.AddExceptionHandler<ProblemExceptionHandler>();
        // Binding failures (malformed JSON, wrong types) throw BadHttpRequestException in every
        // environment so one handler gives them one shape.
        builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        return builder;
    }

    public static IApplicationBuilder UseProblemResponses(this IApplicationBuilder app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }

    /// <summary>What the framework's own refusals (unknown route, wrong method, ...) say.</summary>
    private static string DefaultDetail(int status) => status switch
    {
        StatusCodes.Status401Unauthorized => "Sign in: send Authorization: Bearer <accessToken>.",
        StatusCodes.Status403Forbidden => "Your account does not have the role this needs.",
        StatusCodes.Status404NotFound => "There is nothing at this address.",
        StatusCodes.Status405MethodNotAllowed => "This address does not accept this method.",
        StatusCodes.Status413PayloadTooLarge => "The request body is larger than this endpoint accepts.",
        StatusCodes.Status415UnsupportedMediaType => "Send application/json.",
        _ => "The request was refused.",
    };

    internal static string CodeForStatus(int status) => status switch
    {
        StatusCodes.Status400BadRequest => ProblemCodes.InvalidRequest,
        StatusCodes.Status401Unauthorized => ProblemCodes.Unauthorized,
        StatusCodes.Status403Forbidden => ProblemCodes.Forbidden,
        StatusCodes.Status404NotFound => ProblemCodes.NotFound,
        StatusCodes.Status405MethodNotAllowed => ProblemCodes.MethodNotAllowed,
        StatusCodes.Status413PayloadTooLarge => ProblemCodes.PayloadTooLarge,
        StatusCodes.Status415UnsupportedMediaType => ProblemCodes.UnsupportedMediaType,
        StatusCodes.Status429TooManyRequests => ProblemCodes.RateLimited,
        StatusCodes.Status503ServiceUnavailable => ProblemCodes.ServiceUnavailable,
        _ when status >= 500 => ProblemCodes.InternalError,
        _ => ProblemCodes.InvalidRequest,
    };
}

internal sealed partial class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is OperationCanceledException && httpContext.RequestAborted.IsCancellationRequested)
        {
            // The client went away; there is nobody to answer.
            return true;
        }

        var (status, code, title, detail) = exception switch
        {
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } =>
                (413, ProblemCodes.PayloadTooLarge, "Payload too large", "The request body is larger than this endpoint accepts."),
            BadHttpRequestException { InnerException: JsonException json } =>
                (400, ProblemCodes.InvalidJson, "Malformed JSON", JsonErrorDetail(json)),
            BadHttpRequestException bad when bad.StatusCode == StatusCodes.Status415UnsupportedMediaType =>
                (415, ProblemCodes.UnsupportedMediaType, "Unsupported media type", "Send application/json."),
            // The framework's wording for a missing or null body names its own internals.
            BadHttpRequestException bad when bad.Message.StartsWith("Implicit body inferred", StringComparison.Ordinal)
                    || bad.Message.StartsWith("Required parameter", StringComparison.Ordinal) =>
                (400, ProblemCodes.InvalidJson, "Malformed JSON", "A JSON object body is required."),
            BadHttpRequestException bad =>
                (bad.StatusCode, ProblemDetailsSetup.CodeForStatus(bad.StatusCode), "Bad request", bad.Message),
            _ => (500, ProblemCodes.InternalError, "Internal error", "The server failed to answer; quote the traceId when reporting it."),
        };

        if (status >= 500)
        {
            FlashMall.Kernel.Observability.KernelMetrics.RecordException(exception);
            LogUnhandled(logger, exception, httpContext.Request.Method, httpContext.Request.Path);
        }
        else
        {
            LogRefused(logger, status, code, httpContext.Request.Method, httpContext.Request.Path);
        }

        httpContext.Response.StatusCode = status;
        var problem = new ProblemDetails { Status = status, Title = title, Detail = detail };
        problem.Extensions["code"] = code;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = problem,
            Exception = exception,
        });
    }

    // The JSON reader's message names the path and position without echoing the payload.
    private static string JsonErrorDetail(JsonException json) =>
        json.Path is { Length: > 0 } path ? $"The body is not valid JSON for this endpoint at '{path}'." : "The body is not valid JSON.";

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception on {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Refused {Status} {Code} on {Method} {Path}")]
    private static partial void LogRefused(ILogger logger, int status, string code, string method, string path);
}
