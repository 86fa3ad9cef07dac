using System.Security.Claims;
using FlashMall.Catalog.Domain;
using FlashMall.Catalog.Persistence;
using FlashMall.Contracts.Catalog;
using FlashMall.Kernel.Hosting;
using FlashMall.Kernel.Http;
using FlashMall.Kernel.Idempotency;
using FlashMall.Kernel.Messaging;
using FlashMall.Kernel.Persistence;
using FlashMall.Kernel.Problems;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace FlashMall.Catalog.Endpoints;

/// <summary><see cref="Cost"/> (optional, fen, 0 to the price ceiling; may exceed the price) is what a unit costs the shop; an update without it clears it.</summary>
internal sealed record SkuRequest(string? Code, long? Price, int? Stock, Dictionary<string, string>? Attributes, long? Cost = null);
internal sealed record ProductRequest(string? Name, string? Description, string? CategoryId, string? Brand, List<SkuRequest>? Skus, List<string>? Images);
internal sealed record SkuRef(string Id, string Code);
internal sealed record ProductSaved(string Id, IReadOnlyList<SkuRef> Skus);

/// <summary>Merchandisers' product management. Every change invalidates the cached reads it affects.</summary>
internal static partial class AdminProductEndpoints
{
    public const int MaxNameLength = 200;
    public const int MaxDescriptionLength = 5000;
    public const int MaxSkus = 50;
    public const int MaxImages = 9;
    public const int MaxAttributes = 10;
    /// <summary>¥100,000,000.00: far above any real price, far below overflow in order totals.</summary>
    public const long MaxPrice = 10_000_000_000;
    public const int MaxStock = 10_000_000;

    public const string SkuCodeExists = "sku_code_exists";
    public const string PreconditionFailed = "precondition_failed";
    public const string ConcurrentUpdate = "concurrent_update";

    public static void MapAdminProductEndpoints(this IEndpointRouteBuilder routes)
    {
        var admin = routes.MapGroup("/api/admin/products").WithTags("Catalog admin").NonCore().RequireAuthorization(Policies.Merchandiser);
        admin.MapPost("", Create).WithIdempotency<RouteHandlerBuilder, CatalogDbContext>();
        admin.MapGet("/{id}", Get);
        admin.MapPut("/{id}", Update).WithIdempotency<RouteHandlerBuilder, CatalogDbContext>();
        admin.MapDelete("/{id}", Delete);
    }

    private static async Task<Results<Created<ProductSaved>, ProblemHttpResult>> Create(
        ProductRequest request, ClaimsPrincipal user, CatalogDbContext db, CatalogCache cache, IIdGenerator ids, TimeProvider clock,
        ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var (draft, problem) = await ValidateAsync(request, db, cancellationToken);
        if (draft is null)
        {
            return problem!;
        }

        var product = Product.Create(ids.NewId(), draft, ids.NewId, clock.GetUtcNow());
        db.Products.Add(product);
        db.AddIntegrationEvent(product.Id.ToString(), new ProductChanged(product.Id, product.UpdatedAt), ids, clock);
        if (await SaveAsync(db, cancellationToken) is { } conflict)
        {
            return conflict;
        }
        await cache.InvalidateProductAsync(db, product.Id, cancellationToken);
        LogChanged(loggers.CreateLogger(typeof(AdminProductEndpoints)), user.UserId(), "created", product.Id);
        return TypedResults.Created($"/api/products/{product.Id}", Saved(product));
    }

    /// <summary>
    /// The merchandiser's view: reads the store directly, never the public cache. Its ETag names
    /// the product's version; send it back as <c>If-Match</c> on PUT so a stale form cannot
    /// overwrite a newer change (stock held back for a sale, another merchandiser's edit).
    /// </summary>
    private static async Task<Results<Ok<ProductDetail>, ProblemHttpResult>> Get(string id, HttpContext http, CatalogDbContext db, CancellationToken cancellationToken)
    {
        var product = Guid.TryParse(id, out var productId)
            ? await db.Products.AsNoTracking().Include(p => p.Skus).SingleOrDefaultAsync(p => p.Id == productId && !p.Deleted, cancellationToken)
            : null;
        if (product is null)
        {
            return Problems.NotFound("product");
        }
        http.Response.Headers.ETag = VersionTag(product);
        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(CatalogEndpoints.ToDetail(product));
    }

    private static string VersionTag(Product product) => $"\"v{product.Version}\"";

    private static async Task<Results<Ok<ProductSaved>, ProblemHttpResult>> Update(
        string id, ProductRequest request, HttpContext http, ClaimsPrincipal user, CatalogDbContext db, CatalogCache cache, IIdGenerator ids, TimeProvider clock,
        ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var product = Guid.TryParse(id, out var productId)
            ? await db.Products.Include(p => p.Skus).SingleOrDefaultAsync(p => p.Id == productId && !p.Deleted, cancellationToken)
            : null;
        if (product is null)
        {
            return Problems.NotFound("product");
        }
        if (http.Request.Headers.IfMatch is { Count: > 0 } ifMatch && !ifMatch.Contains(VersionTag(product)) && !ifMatch.Contains("*"))
        {
            return Problems.Create(StatusCodes.Status412PreconditionFailed, PreconditionFailed, "Precondition failed",
                "The product changed since you read it; read it again and reapply your change.");
        }
        var (draft, problem) = await ValidateAsync(request, db, cancellationToken);
        if (draft is null)
        {
            return problem!;
        }

        product.Apply(draft, ids.NewId, clock.GetUtcNow());
        db.AddIntegrationEvent(product.Id.ToString(), new ProductChanged(product.Id, product.UpdatedAt), ids, clock);
        if (await SaveAsync(db, cancellationToken) is { } conflict)
        {
            return conflict;
        }
        await cache.InvalidateProductAsync(db, product.Id, cancellationToken);
        LogChanged(loggers.CreateLogger(typeof(AdminProductEndpoints)), user.UserId(), "updated", product.Id);
        return TypedResults.Ok(Saved(product));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(
        string id, ClaimsPrincipal user, CatalogDbContext db, CatalogCache cache, IIdGenerator ids, TimeProvider clock, ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var productId))
        {
            return Problems.NotFound("product");
        }
        // Soft delete: orders keep referring to what was sold. The event commits with it.
        var now = clock.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var deleted = await db.Products.Where(p => p.Id == productId && !p.Deleted)
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.Deleted, true).SetProperty(p => p.UpdatedAt, now).SetProperty(p => p.Version, p => p.Version + 1), cancellationToken);
        if (deleted == 0)
        {
            return Problems.NotFound("product");
        }
        db.AddIntegrationEvent(productId.ToString(), new ProductDeleted(productId, now), ids, clock);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(CancellationToken.None);
        await cache.InvalidateProductAsync(db, productId, cancellationToken);
        LogChanged(loggers.CreateLogger(typeof(AdminProductEndpoints)), user.UserId(), "deleted", productId);
        return TypedResults.NoContent();
    }

    private static async Task<ProblemHttpResult?> SaveAsync(CatalogDbContext db, CancellationToken cancellationToken)
    {
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return null;
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            return Problems.Conflict(SkuCodeExists, "A SKU with one of these codes already exists.");
        }
        catch (DbUpdateConcurrencyException)
        {
            return Problems.Conflict(ConcurrentUpdate, "The product changed while this request was saving it; read it again and retry.");
        }
    }

    /// <summary>Every field checked before anything is written; the category must exist.</summary>
    private static async Task<(ProductDraft? Draft, ProblemHttpResult? Problem)> ValidateAsync(ProductRequest request, CatalogDbContext db, CancellationToken cancellationToken)
    {
        var validation = new Validator()
            .RequiredText(request.Name, "name", MaxNameLength)
            .OptionalText(request.Description, "description", MaxDescriptionLength)
            .RequiredText(request.Brand, "brand", 64)
            .Require(request.Skus is { Count: > 0 and <= MaxSkus }, "skus", $"Give 1 to {MaxSkus} SKUs.")
            .Require(request.Images is null || request.Images.Count <= MaxImages, "images", $"At most {MaxImages} images.");

        for (var i = 0; i < (request.Images?.Count ?? 0); i++)
        {
            var image = request.Images![i];
            validation.Require(image is { Length: > 0 and <= 512 } && !Validator.HasControlCharacters(image)
                    && ((image.StartsWith('/') && !image.StartsWith("//", StringComparison.Ordinal)) || image.StartsWith("https://", StringComparison.Ordinal)),
                $"images[{i}]", "An absolute path or an https URL of at most 512 characters.");
        }

        var skus = request.Skus ?? [];
        for (var i = 0; i < Math.Min(skus.Count, MaxSkus); i++)
        {
            var sku = skus[i];
            var field = $"skus[{i}]";
            if (sku is null)
            {
                validation.Add(field, "Required.");
                continue;
            }
            validation
                .RequiredText(sku.Code, $"{field}.code", 64)
                .Require(sku.Price is >= 1 and <= MaxPrice, $"{field}.price", $"A whole number of fen from 1 to {MaxPrice}.")
                .Require(sku.Stock is >= 0 and <= MaxStock, $"{field}.stock", $"A whole number from 0 to {MaxStock}.")
                .Require(sku.Cost is null or (>= 0 and <= MaxPrice), $"{field}.cost", $"A whole number of fen from 0 to {MaxPrice}.")
                .Require(sku.Attributes is null || sku.Attributes.Count <= MaxAttributes, $"{field}.attributes", $"At most {MaxAttributes} attributes.")
                .Require(sku.Attributes is null || sku.Attributes.All(a => a.Key.Length is > 0 and <= 32 && a.Value is { Length: <= 64 }
                        && !Validator.HasControlCharacters(a.Key) && !Validator.HasControlCharacters(a.Value)),
                    $"{field}.attributes", "Names of 1-32 and values of at most 64 characters, without control characters.");
        }
        if (skus.Where(s => s?.Code is not null).GroupBy(s => s.Code!.Trim(), StringComparer.Ordinal).Any(g => g.Count() > 1))
        {
            validation.Add("skus", "SKU codes must be unique.");
        }

        Guid categoryId = default;
        if (string.IsNullOrWhiteSpace(request.CategoryId))
        {
            validation.Add("categoryId", "Required.");
        }
        else if (!Guid.TryParse(request.CategoryId, out categoryId) || !await db.Categories.AnyAsync(c => c.Id == categoryId, cancellationToken))
        {
            validation.Add("categoryId", "Unknown category.");
        }

        if (!validation.IsValid)
        {
            return (null, validation.ToProblem());
        }

        return (new ProductDraft(
            request.Name!.Trim(), request.Description?.Trim() ?? "", categoryId, request.Brand!.Trim(), request.Images ?? [],
            [.. skus.Select(s => new SkuDraft(s.Code!.Trim(), s.Price!.Value, s.Stock!.Value, s.Attributes ?? [], s.Cost))]), null);
    }

    private static ProductSaved Saved(Product product) =>
        new(product.Id.ToString(), [.. product.ActiveSkus.OrderBy(s => s.Code, StringComparer.Ordinal).Select(s => new SkuRef(s.Id.ToString(), s.Code))]);

    [LoggerMessage(Level = LogLevel.Information, Message = "Merchandiser {UserId} {Action} product {ProductId}")]
    private static partial void LogChanged(ILogger logger, Guid userId, string action, Guid productId);
}
