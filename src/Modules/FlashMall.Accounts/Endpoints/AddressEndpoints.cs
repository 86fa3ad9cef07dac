using System.Security.Claims;
using FlashMall.Accounts.Domain;
using FlashMall.Accounts.Persistence;
using FlashMall.Kernel.Hosting;
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

    public static void MapAddressEndpoints(this IEndpointRouteBuilder routes)
    {
        var addresses = routes.MapGroup("/api/accounts/addresses").WithTags("Accounts").RequireAuthorization();
        addresses.MapGet("", List);
        addresses.MapPost("", Create);
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
        if (await db.Addresses.CountAsync(a => a.UserId == userId, cancellationToken) >= MaxAddressesPerUser)
        {
            return Problems.Conflict("address_book_full", $"An address book holds at most {MaxAddressesPerUser} addresses.");
        }
        var address = Address.Create(ids.NewId(), userId, request.Name!.Trim(), Credentials.NormalizePhone(request.Phone)!,
            request.Line1!.Trim(), request.City!.Trim(), request.Region!.Trim(), request.Postcode?.Trim(), clock.GetUtcNow());
        db.Addresses.Add(address);
        await db.SaveChangesAsync(cancellationToken);
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
        var deleted = Guid.TryParse(id, out var addressId)
            ? await db.Addresses.Where(a => a.Id == addressId && a.UserId == user.UserId()).ExecuteDeleteAsync(cancellationToken)
            : 0;
        return deleted == 0 ? Problems.NotFound("address") : TypedResults.NoContent();
    }

    private static AddressResponse ToResponse(Address a) => new(a.Id.ToString(), a.Name, a.Phone, a.Line1, a.City, a.Region, a.Postcode);
}
