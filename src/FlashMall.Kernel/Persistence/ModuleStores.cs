using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace FlashMall.Kernel.Persistence;

public static class ModuleStores
{
    /// <summary>
    /// Every module's DbContext (resolved from <paramref name="services"/>) whose model holds
    /// <typeparamref name="TEntity"/>: the kernel's tables that each module keeps for itself
    /// (idempotency records, outbox, processed messages).
    /// </summary>
    public static IEnumerable<(DbContext Db, string Schema)> Holding<TEntity>(this IEnumerable<ModuleDbContextRegistration> modules, IServiceProvider services) =>
        modules
            .Select(module => ((DbContext)services.GetRequiredService(module.ContextType), module.Schema))
            .Where(store => store.Item1.Model.FindEntityType(typeof(TEntity)) is not null);
}
