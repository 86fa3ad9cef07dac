using System.Security.Claims;
using System.Text;
using FlashMall.Circle.Domain;
using FlashMall.Circle.Persistence;
using FlashMall.Contracts.Catalog;
using FlashMall.Contracts.Circle;
using FlashMall.Contracts.Media;
using FlashMall.Kernel.Hosting;
using FlashMall.Kernel.Http;
using FlashMall.Kernel.Messaging;
using FlashMall.Kernel.Problems;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Net.Http.Headers;

namespace FlashMall.Circle.Endpoints;

/// <summary>
/// Posting: a multipart body read part by part as it arrives. Each image streams straight into
/// the Media module's staging (to disk, checked as it goes; a refusal stops reading there); the
/// post is written only once every part was acceptable, and only then are the images stored.
/// </summary>
internal static class PostEndpoints
{
    /// <summary>Bytes a text field may have: 1,000 characters of up to 4 UTF-8 bytes each, with room for a few product ids.</summary>
    private const int MaxFieldBytes = 4 * Post.MaxTextLength + 64;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static void MapPostEndpoints(this IEndpointRouteBuilder routes)
    {
        var posts = routes.MapGroup("/api/circle/posts").WithTags("Circle").NonCore();
        posts.MapPost("/", Create).RequireAuthorization().RefusedWhileReadOnly()
            .WithMetadata(new PostBodyLimit(routes.ServiceProvider))
            .Accepts<IFormFile>("multipart/form-data");
        posts.MapGet("/{id}", Get).AllowAnonymous();
        posts.MapDelete("/{id}", Delete).RequireAuthorization().RefusedWhileReadOnly();
    }

    private static async Task<Results<Created<PostCreatedView>, ProblemHttpResult>> Create(
        HttpContext http, ClaimsPrincipal user, IImageUploads uploads, ICatalogProducts catalog, CircleDbContext db, IIdGenerator ids,
        TimeProvider clock, CancellationToken cancellationToken)
    {
        if (!MediaTypeHeaderValue.TryParse(http.Request.ContentType, out var contentType)
            || !contentType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(contentType.Boundary).Value is not { Length: > 0 and <= 200 } boundary)
        {
            return Problems.Create(StatusCodes.Status415UnsupportedMediaType, ProblemCodes.UnsupportedMediaType, "Unsupported media type",
                "Send multipart/form-data with text, productIds and images.");
        }
        var staged = new List<IStagedImage>();
        try
        {
            string? text = null;
            var productIds = new List<string>();
            var reader = new MultipartReader(boundary, http.Request.Body) { HeadersLengthLimit = 8 * 1024, HeadersCountLimit = 8 };
            MultipartSection? section;
            try
            {
                while ((section = await reader.ReadNextSectionAsync(cancellationToken)) is not null)
                {
                    if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                        || !disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase))
                    {
                        return Problems.BadRequest(ProblemCodes.InvalidRequest, "Every part needs a form-data Content-Disposition with a name.");
                    }
                    var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value;
                    if (disposition.IsFileDisposition() || name == "images")
                    {
                        if (name != "images")
                        {
                            return Problems.Validation(name ?? "file", "Images go in parts named images.");
                        }
                        if (staged.Count == Post.MaxImages)
                        {
                            return Problems.Validation("images", $"At most {Post.MaxImages} images.");
                        }
                        var staging = await uploads.StageAsync(section.Body, cancellationToken);
                        if (staging.Refusal is { } refusal)
                        {
                            return Problems.Create(refusal.Status, refusal.Code, ImageTitle(refusal.Status), $"Image {staged.Count + 1}: {refusal.Detail}");
                        }
                        staged.Add(staging.Image!);
                        continue;
                    }
                    var value = await ReadFieldAsync(section.Body, cancellationToken);
                    if (value is null)
                    {
                        return Problems.Validation(name ?? "field", "At most 1,000 characters of UTF-8 text.");
                    }
                    if (name == "text")
                    {
                        if (text is not null)
                        {
                            return Problems.Validation("text", "One text part.");
                        }
                        text = value;
                    }
                    else if (name == "productIds")
                    {
                        productIds.AddRange(value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                    }
                }
            }
            catch (InvalidDataException ex)
            {
                return Problems.BadRequest(ProblemCodes.InvalidRequest, $"Malformed multipart body: {ex.Message}");
            }

            var products = new List<Guid>();
            var validator = new Validator();
            validator.OptionalText(text, "text", Post.MaxTextLength);
            validator.Require(!string.IsNullOrWhiteSpace(text) || staged.Count > 0, "text", "A post needs text or at least one image.");
            validator.Require(productIds.Count <= Post.MaxProducts, "productIds", $"At most {Post.MaxProducts} products.");
            foreach (var productId in productIds)
            {
                if (Guid.TryParse(productId, out var parsed))
                {
                    products.Add(parsed);
                }
                else
                {
                    validator.Add("productIds", $"'{productId}' is not a product id.");
                }
            }
            if (validator.IsValid && products.Count > 0)
            {
                var existing = await catalog.ExistingAsync(products, cancellationToken);
                foreach (var missing in products.Where(p => !existing.Contains(p)))
                {
                    validator.Add("productIds", $"No product {missing}.");
                }
            }
            if (!validator.IsValid)
            {
                return validator.ToProblem();
            }

            var batch = await uploads.StoreAsync(staged, cancellationToken);
            if (batch.Refusal is { } storeRefusal)
            {
                return Problems.Create(storeRefusal.Status, storeRefusal.Code, ImageTitle(storeRefusal.Status), storeRefusal.Detail);
            }
            var now = clock.GetUtcNow();
            var images = batch.Images.Select((image, position) => new PostImage
            {
                Position = position, Url = image.Url, MediumUrl = image.MediumUrl, ThumbUrl = image.ThumbUrl, Width = image.Width, Height = image.Height,
            }).ToList();
            var post = Post.Create(ids.NewId(), user.UserId(), text ?? "", [.. products.Distinct()], images, now);
            db.Posts.Add(post);
            db.AddIntegrationEvent(post.Id.ToString(),
                new PostCreated(post.Id, post.AuthorId, post.Text, post.Products, [.. images.Select(i => i.Url)], now), ids, clock);
            await db.SaveChangesAsync(cancellationToken);
            return TypedResults.Created($"/api/circle/posts/{post.Id}", new PostCreatedView(post.Id.ToString(), [.. images.Select(ImageView.Of)]));
        }
        finally
        {
            foreach (var image in staged)
            {
                await image.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Nine images at Media's per-image limit plus the text fields. Read at the first request, not
    /// when routes are mapped: the options are validated at start, and an invalid value must stop
    /// the node with its message, not with an exception from the route table.
    /// </summary>
    private sealed class PostBodyLimit(IServiceProvider services) : IRequestSizeLimitMetadata
    {
        private readonly Lazy<long> _limit = new(() =>
            Post.MaxImages * services.GetRequiredService<IImageUploads>().MaxImageBytes + RequestBodyLimits.DefaultMaxBodyBytes);

        public long? MaxRequestBodySize => _limit.Value;
    }

    private static string ImageTitle(int status) => status switch
    {
        StatusCodes.Status413PayloadTooLarge => "Image too large",
        StatusCodes.Status415UnsupportedMediaType => "Not an image",
        _ => "Image refused",
    };

    /// <summary>A small text part, or null when it is longer than a field may be or not UTF-8.</summary>
    private static async Task<string?> ReadFieldAsync(Stream body, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxFieldBytes + 1];
        var length = await body.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
        if (length > MaxFieldBytes)
        {
            return null;
        }
        try
        {
            return StrictUtf8.GetString(buffer, 0, length);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    private static async Task<Results<Ok<PostView>, ProblemHttpResult>> Get(string id, CircleDbContext db, CancellationToken cancellationToken)
    {
        var post = Guid.TryParse(id, out var postId)
            ? await db.Posts.AsNoTracking().SingleOrDefaultAsync(p => p.Id == postId && p.DeletedAt == null && !p.Hidden, cancellationToken)
            : null;
        return post is null ? Problems.NotFound("post") : TypedResults.Ok(PostView.Of(post));
    }

    /// <summary>The author or an operator removes a post (it leaves every feed; its images stay, they may be shared).</summary>
    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(
        string id, ClaimsPrincipal user, IAuthorizationService authorization, CircleDbContext db, IIdGenerator ids, TimeProvider clock,
        CancellationToken cancellationToken)
    {
        var post = Guid.TryParse(id, out var postId)
            ? await db.Posts.AsNoTracking().Where(p => p.Id == postId && p.DeletedAt == null).Select(p => new { p.AuthorId }).SingleOrDefaultAsync(cancellationToken)
            : null;
        if (post is null)
        {
            return Problems.NotFound("post");
        }
        var me = user.UserId();
        if (post.AuthorId != me && !(await authorization.AuthorizeAsync(user, Policies.Operator)).Succeeded)
        {
            return Problems.Create(StatusCodes.Status403Forbidden, ProblemCodes.Forbidden, "Forbidden", "Only the author or an operator may delete a post.");
        }
        var now = clock.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var deleted = await db.Posts.Where(p => p.Id == postId && p.DeletedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.DeletedAt, (DateTimeOffset?)now), cancellationToken);
        if (deleted == 1)
        {
            db.AddIntegrationEvent(postId.ToString(), new PostDeleted(postId, me, now), ids, clock);
            await db.SaveChangesAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.NoContent();
    }
}
