using FlashMall.Accounts.Domain;
using FlashMall.Accounts.Endpoints;
using FlashMall.Accounts.Persistence;
using FlashMall.Accounts.Security;
using FlashMall.Kernel.Hosting;
using FlashMall.Kernel.Http;
using FlashMall.Kernel.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlashMall.Accounts;

/// <summary>Creates the <c>admin</c> account from <c>Bootstrap:AdminEmail</c>/<c>AdminPassword</c> when it does not exist yet.</summary>
internal sealed partial class AdminBootstrap(
    IOptions<BootstrapOptions> options, AccountsDbContext db, PasswordHashing hashing, IIdGenerator ids, TimeProvider clock,
    ILogger<AdminBootstrap> logger) : IStartupTask
{
    public int Order => StartupTaskOrder.Bootstrap;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (string.IsNullOrWhiteSpace(settings.AdminEmail) && string.IsNullOrWhiteSpace(settings.AdminPassword))
        {
            return;
        }
        // Validated at start (BootstrapOptionsValidator).
        var email = Credentials.NormalizeEmail(settings.AdminEmail)!;
        if (await db.Users.SingleOrDefaultAsync(u => u.Email == email, cancellationToken) is { } existing)
        {
            if (!existing.RoleList.Contains(Roles.Admin))
            {
                // The operator named this account as the admin: give the role back (e.g. after a lock-out by mistake).
                existing.SetRoles([.. existing.RoleList, Roles.Admin]);
                await db.SaveChangesAsync(cancellationToken);
                LogRestored(logger, existing.Id);
            }
            return;
        }

        var hash = await hashing.HashAsync(settings.AdminPassword!, cancellationToken) ?? throw new InvalidOperationException("Password hashing is saturated at start-up.");
        var admin = User.Register(ids.NewId(), email, null, "admin", hash, clock.GetUtcNow());
        admin.SetRoles([Roles.Admin]);
        db.Users.Add(admin);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            LogCreated(logger, admin.Id);
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            // Another node bootstrapped it at the same moment.
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Bootstrap gave the admin role back to account {UserId}")]
    private static partial void LogRestored(ILogger logger, Guid userId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Bootstrapped admin account {UserId}")]
    private static partial void LogCreated(ILogger logger, Guid userId);
}
