using FlashMall.Circle.Domain;
using FlashMall.Kernel.Messaging;
using FlashMall.Kernel.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace FlashMall.Circle.Persistence;

internal abstract class CircleDbContext(DbContextOptions options) : DbContext(options)
{
    public const string Schema = "circle";

    public DbSet<Post> Posts => Set<Post>();
    public DbSet<Like> Likes => Set<Like>();
    public DbSet<Comment> Comments => Set<Comment>();
    public DbSet<Report> Reports => Set<Report>();
    public DbSet<Follow> Follows => Set<Follow>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.Entity<Post>(post =>
        {
            post.ToTable("posts");
            post.HasKey(p => p.Id);
            post.Ignore(p => p.Products);
            post.Property(p => p.Text).HasMaxLength(Post.MaxTextLength);
            post.Property(p => p.ProductIds).HasMaxLength(Post.MaxProducts * 37);
            post.Property(p => p.SortKey).HasMaxLength(SortKeys.Length);
            post.HasIndex(p => p.SortKey).IsUnique();
            post.HasIndex(p => new { p.AuthorId, p.SortKey });
            post.OwnsMany(p => p.Images, image =>
            {
                image.ToTable("post_images");
                image.WithOwner().HasForeignKey("PostId");
                image.HasKey("PostId", nameof(PostImage.Position));
                image.Property(i => i.Position).ValueGeneratedNever();
                image.Property(i => i.Url).HasMaxLength(500);
                image.Property(i => i.MediumUrl).HasMaxLength(500);
                image.Property(i => i.ThumbUrl).HasMaxLength(500);
            });
        });
        modelBuilder.Entity<Like>(like =>
        {
            like.ToTable("likes");
            like.HasKey(l => new { l.PostId, l.UserId });
        });
        modelBuilder.Entity<Report>(report =>
        {
            report.ToTable("reports");
            report.HasKey(r => new { r.PostId, r.UserId });
            report.Property(r => r.Reason).HasMaxLength(Report.MaxReasonLength);
        });
        modelBuilder.Entity<Comment>(comment =>
        {
            comment.ToTable("comments");
            comment.HasKey(c => c.Id);
            comment.Property(c => c.Text).HasMaxLength(Comment.MaxTextLength);
            comment.HasIndex(c => new { c.PostId, c.CreatedAt });
        });
        modelBuilder.Entity<Follow>(follow =>
        {
            follow.ToTable("follows");
            follow.HasKey(f => new { f.FollowerId, f.FolloweeId });
            follow.HasIndex(f => f.FolloweeId);
        });
        modelBuilder.AddOutbox();
        modelBuilder.UseClientGeneratedKeys();
    }
}

internal sealed class CircleSqliteDbContext(DbContextOptions<CircleSqliteDbContext> options) : CircleDbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder) => configurationBuilder.UseSortableTimes();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.UseSchemaAsTablePrefix();
    }
}

internal sealed class CirclePostgresDbContext(DbContextOptions<CirclePostgresDbContext> options) : CircleDbContext(options)
{
    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        // Cursors compare sort keys as bytes, whatever the database's collation.
        modelBuilder.Entity<Post>().Property(p => p.SortKey).UseCollation("C");
    }
}

internal sealed class CircleSqliteDesignFactory : IDesignTimeDbContextFactory<CircleSqliteDbContext>
{
    public CircleSqliteDbContext CreateDbContext(string[] args) => new(DesignTime.Sqlite<CircleSqliteDbContext>(CircleDbContext.Schema));
}

internal sealed class CirclePostgresDesignFactory : IDesignTimeDbContextFactory<CirclePostgresDbContext>
{
    public CirclePostgresDbContext CreateDbContext(string[] args) => new(DesignTime.Postgres<CirclePostgresDbContext>(CircleDbContext.Schema));
}
