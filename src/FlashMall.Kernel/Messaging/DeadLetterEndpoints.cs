using FlashMall.Kernel.Http;
using FlashMall.Kernel.Persistence;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace FlashMall.Kernel.Messaging;

internal sealed record DeadLetterView(string Id, string Module, string AggregateId, string Type, int Attempts, string? LastError, DateTimeOffset CreatedAt, DateTimeOffset DeadLetteredAt);

/// <summary>Operators list the integration events that kept failing, and replay them once the cause is fixed.</summary>
public static class DeadLetterEndpoints
{
    public static IEndpointRouteBuilder MapDeadLetters(this IEndpointRouteBuilder routes)
    {
        var deadLetters = routes.MapGroup("/api/admin/dead-letters").WithTags("Messaging").NonCore().RequireAuthorization(Policies.Operator);
        deadLetters.MapGet("", List);
        deadLetters.MapPost("/{id}/replay", Replay);
        return routes;
    }

    private static async Task<Ok<PagedResponse<DeadLetterView>>> List(
        PageRequest page, IServiceProvider services, IEnumerable<ModuleDbContextRegistration> modules, CancellationToken cancellationToken)
    {
        var all = new List<DeadLetterView>();
        foreach (var (db, schema) in modules.Holding<OutboxMessage>(services))
        {
            all.AddRange(await db.Set<OutboxMessage>().AsNoTracking()
                .Where(m => m.DeadLetteredAt != null)
                .OrderByDescending(m => m.DeadLetteredAt)
                .Take(page.Skip + page.PageSize)
                .Select(m => new DeadLetterView(m.Id.ToString(), schema, m.AggregateId, m.Type, m.Attempts, m.LastError, m.CreatedAt, m.DeadLetteredAt!.Value))
                .ToListAsync(cancellationToken));
        }
        var items = all.OrderByDescending(d => d.DeadLetteredAt).Skip(page.Skip).Take(page.PageSize).ToList();
        var total = 0;
        foreach (var (db, _) in modules.Holding<OutboxMessage>(services))
        {
            total += await db.Set<OutboxMessage>().CountAsync(m => m.DeadLetteredAt != null, cancellationToken);
        }
        return TypedResults.Ok(new PagedResponse<DeadLetterView>(items, total, page.Page, page.PageSize));
    }

    /// <summary>
    /// Puts a dead-lettered message back in line, unsent, with a fresh count of attempts — and with
    /// it every dead letter of its aggregate (those held back behind the first), which leave again
    /// in their order: replaying one alone would only see it held back again.
    /// </summary>
    private static async Task<Results<Accepted, ProblemHttpResult>> Replay(
        string id, IServiceProvider services, IEnumerable<ModuleDbContextRegistration> modules, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var messageId))
        {
            return Problems.Problems.NotFound("dead letter");
        }
        foreach (var (db, _) in modules.Holding<OutboxMessage>(services))
        {
            var deadLetter = await db.Set<OutboxMessage>().AsNoTracking()
                .Where(m => m.Id == messageId && m.DeadLetteredAt != null)
                .Select(m => new { m.AggregateId })
                .FirstOrDefaultAsync(cancellationToken);
            if (deadLetter is null)
            {
                continue;
            }
            var replayed = await db.Set<OutboxMessage>()
                .Where(m => m.AggregateId == deadLetter.AggregateId && m.DeadLetteredAt != null)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(m => m.DeadLetteredAt, (DateTimeOffset?)null)
                    .SetProperty(m => m.SentAt, (DateTimeOffset?)null)
                    .SetProperty(m => m.NextAttemptAt, (DateTimeOffset?)null)
                    .SetProperty(m => m.Attempts, 0), cancellationToken);
            if (replayed > 0)
            {
                OutboxSignal.Instance.Set();
                return TypedResults.Accepted((string?)null);
            }
        }
        return Problems.Problems.NotFound("dead letter");
    }
}
