using FlashMall.Archive.Export;
using FlashMall.Kernel.Http;
using FlashMall.Kernel.Problems;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace FlashMall.Archive.Endpoints;

internal sealed record GmvReport(string From, string To, IReadOnlyList<GmvRow> Rows);

/// <summary>
/// Operators' archive endpoints (admin only, non-core: shed first under load): run the export of a
/// day now, and named DuckDB reports over the archive. No free SQL.
/// </summary>
internal static class ArchiveEndpoints
{
    public const string DayInvalid = "archive_day_invalid";
    public const string RangeInvalid = "archive_range_invalid";
    public const string QueryTimeout = "archive_query_timeout";

    public static void MapArchiveEndpoints(this IEndpointRouteBuilder routes)
    {
        var admin = routes.MapGroup("/api/admin/archive").WithTags("Archive admin").NonCore().RequireAuthorization(Policies.Admin);
        admin.MapPost("/run", Run);
        admin.MapGet("/reports/gmv-by-day-category", GmvByDayAndCategory);
    }

    private static async Task<Results<Ok<DayExport>, ProblemHttpResult>> Run(
        string? day, ArchiveExporter exporter, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (!ArchiveDays.TryParse(day, out var parsed))
        {
            return Problems.BadRequest(DayInvalid, "day must be a date, yyyy-MM-dd (UTC).");
        }
        if (parsed > ArchiveDays.Today(clock))
        {
            return Problems.BadRequest(DayInvalid, "day must not be in the future (UTC).");
        }
        return TypedResults.Ok(await exporter.ExportAsync(parsed, cancellationToken));
    }

    private static async Task<Results<Ok<GmvReport>, ProblemHttpResult>> GmvByDayAndCategory(
        string? from, string? to, ArchiveReports reports, IOptions<ArchiveOptions> options, CancellationToken cancellationToken)
    {
        if (!ArchiveDays.TryParse(from, out var first) || !ArchiveDays.TryParse(to, out var last))
        {
            return Problems.BadRequest(RangeInvalid, "from and to must be dates, yyyy-MM-dd (UTC).");
        }
        if (first > last || last.DayNumber - first.DayNumber >= options.Value.MaxReportDays)
        {
            return Problems.BadRequest(RangeInvalid, $"from ≤ to, at most {options.Value.MaxReportDays} days.");
        }
        try
        {
            return TypedResults.Ok(new GmvReport(ArchiveDays.Text(first), ArchiveDays.Text(last),
                await reports.GmvByDayAndCategoryAsync(first, last, cancellationToken)));
        }
        catch (ArchiveQueryTimeoutException)
        {
            return Problems.Create(StatusCodes.Status504GatewayTimeout, QueryTimeout, "Archive query timed out",
                "The report took longer than Archive:QueryTimeout; ask for fewer days.");
        }
    }
}
