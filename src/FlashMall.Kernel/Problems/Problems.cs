using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace FlashMall.Kernel.Problems;

/// <summary>
/// Expected refusals as values (RFC 9457 problem details with a stable <c>code</c>).
/// <c>traceId</c> is added to every problem in one place (<see cref="ProblemDetailsSetup"/>).
/// </summary>
public static class Problems
{
    public static ProblemHttpResult Create(int status, string code, string title, string? detail = null)
    {
        var problem = new ProblemDetails { Status = status, Title = title, Detail = detail };
        problem.Extensions["code"] = code;
        return TypedResults.Problem(problem);
    }

    public static ProblemHttpResult NotFound(string what = "resource") =>
        Create(StatusCodes.Status404NotFound, ProblemCodes.NotFound, "Not found", $"The {what} does not exist.");

    public static ProblemHttpResult Conflict(string code, string detail) =>
        Create(StatusCodes.Status409Conflict, code, "Conflict", detail);

    public static ProblemHttpResult BadRequest(string code, string detail) =>
        Create(StatusCodes.Status400BadRequest, code, "Bad request", detail);

    public static ProblemHttpResult Unauthorized(string code, string detail) =>
        Create(StatusCodes.Status401Unauthorized, code, "Unauthorized", detail);

    public static ProblemHttpResult TooManyRequests(string code, string detail) =>
        Create(StatusCodes.Status429TooManyRequests, code, "Too many requests", detail);

    /// <summary>400 with per-field errors, the shape of ASP.NET Core's validation problem plus our <c>code</c>.</summary>
    public static ProblemHttpResult Validation(IDictionary<string, string[]> errors, string? detail = null)
    {
        var problem = new HttpValidationProblemDetails(errors)
        {
            Status = StatusCodes.Status400BadRequest,
            Title = "One or more fields are invalid",
            Detail = detail ?? "See errors for each field.",
        };
        problem.Extensions["code"] = ProblemCodes.ValidationFailed;
        return TypedResults.Problem(problem);
    }

    public static ProblemHttpResult Validation(string field, string message) =>
        Validation(new Dictionary<string, string[]> { [field] = [message] });
}
