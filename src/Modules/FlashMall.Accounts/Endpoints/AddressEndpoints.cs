using System.Security.Claims;
using FlashMall.Accounts.Domain;
using FlashMall.Accounts.Persistence;
using FlashMall.Kernel.Hosting;
using FlashMall.Kernel.Idempotency;
using FlashMall.Kernel.Problems;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using FlashMall.Kernel.Http;

namespace FlashMall.Accounts.Endpoints;

internal sealed record AddressRequest(string? Name, string? Phone, string? Line1, string? City, string? Region, string? Postcode);
internal sealed record AddressResponse(string Id, string Name, string Phone, string Line1, string City, string Region, string? Postcode);

/// <summary>A buyer's address book. Another user's address answers 404, never 403.</summary>
internal static class AddressEndpoints
{
    public const int MaxAddressesPerUser = 20;
    public const string AddressBookFull = "address_book_full";

    public static void MapAddressEndpoints(this IEndpointRouteBuilder routes)
    {
        var addresses = routes.MapGroup("/api/accounts/addresses").WithTags("Accounts").Core().RequireAuthorization();
        addresses.MapGet("", List);
        addresses.MapPost("", Create).WithIdempotency<RouteHandlerBuilder, AccountsDbContext>();
        addresses.MapGet("/{id}", Get);
        addresses.MapDelete("/{id}", Delete);
    }

    private static async Task<Ok<AddressResponse[]>> List(ClaimsPrincipal user, AccountsDbContext db, CancellationToken cancellationToken)
    {
        var userId = user.UserId();
        var list = await db.Addresses.AsNoTracking().Where(a => a.UserId == userId).OrderBy(a => a.Id).ToListAsync(cancellationToken);
        return TypedResults.Ok(list.Select(ToResponse).ToArray());
    }

    private static async Task<Results<Created<AddressResponse>, ProblemHttpResult>> Create(
        AddressRequest request, ClaimsPrincipal user, AccountsDbContext db, IIdGenerator ids, TimeProvider clock, CancellationToken cancellationToken)
    {
        var validation = new Validator()
            .RequiredText(request.Name, "name", 64)
            .Require(Credentials.NormalizePhone(request.Phone) is not null, "phone", "Not a valid phone number.")
            .RequiredText(request.Line1, "line1", 200)
            .RequiredText(request.City, "city", 64)
            .RequiredText(request.Region, "region", 64)
            .OptionalText(request.Postcode, "postcode", 16);
        if (!validation.IsValid)
        {
            return validation.ToProblem();
        }
        var userId = user.UserId();
        await using var transaction = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(cancellationToken) : null;
        // The store keeps the count: one conditional update decides whether there is room.
        var room = await db.Users.Where(u => u.Id == userId && u.AddressCount < MaxAddressesPerUser)
            .ExecuteUpdateAsync(s => s.SetProperty(u => u.AddressCount, u => u.AddressCount + 1), cancellationToken);
        if (room == 0)
        {
            return Problems.Conflict(AddressBookFull, $"An address book holds at most {MaxAddressesPerUser} addresses.");
        }
        var address = Address.Create(ids.NewId(), userId, request.Name!.Trim(), Credentials.NormalizePhone(request.Phone)!,
            request.Line1!.Trim(), request.City!.Trim(), request.Region!.Trim(), request.Postcode?.Trim(), clock.GetUtcNow());
        db.Addresses.Add(address);
        await db.SaveChangesAsync(cancellationToken);
        if (transaction is not null)
        {
            await transaction.CommitAsync(CancellationToken.None);
        }
        return TypedResults.Created($"/api/accounts/addresses/{address.Id}", ToResponse(address));
    }

    private static async Task<Results<Ok<AddressResponse>, ProblemHttpResult>> Get(string id, ClaimsPrincipal user, AccountsDbContext db, CancellationToken cancellationToken)
    {
        var address = Guid.TryParse(id, out var addressId)
            ? await db.Addresses.AsNoTracking().SingleOrDefaultAsync(a => a.Id == addressId && a.UserId == user.UserId(), cancellationToken)
            : null;
        return address is null ? Problems.NotFound("address") : TypedResults.Ok(ToResponse(address));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(string id, ClaimsPrincipal user, AccountsDbContext db, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var addressId))
        {
            return Problems.NotFound("address");
        }
        var userId = user.UserId();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var deleted = await db.Addresses.Where(a => a.Id == addressId && a.UserId == userId).ExecuteDeleteAsync(cancellationToken);
        if (deleted == 0)
        {
            return Problems.NotFound("address");
        }
        await db.Users.Where(u => u.Id == userId).ExecuteUpdateAsync(s => s.SetProperty(u => u.AddressCount, u => u.AddressCount - 1), cancellationToken);
        await transaction.CommitAsync(CancellationToken.None);
        return TypedResults.NoContent();
    }

    private static AddressResponse ToResponse(Address a) => new(a.Id.ToString(), a.Name, a.Phone, a.Line1, a.City, a.Region, a.Postcode);
}
