using System.Reflection;

namespace FlashMall.UnitTests.Architecture;

/// <summary>
/// The dependency rule of STYLE.md: modules never reference each other; they share only the kernel
/// and the contracts; the kernel and contracts know no module; shared adapters know only the kernel.
/// </summary>
public sealed class ModuleBoundaryTests
{
    private static readonly Assembly[] Modules =
    [
        typeof(FlashMall.Accounts.AccountsModule).Assembly,
        typeof(FlashMall.Archive.ArchiveModule).Assembly,
        typeof(FlashMall.Catalog.CatalogModule).Assembly,
        typeof(FlashMall.Circle.CircleModule).Assembly,
        typeof(FlashMall.Coupons.CouponsModule).Assembly,
        typeof(FlashMall.FlashSales.FlashSalesModule).Assembly,
        typeof(FlashMall.Media.MediaModule).Assembly,
        typeof(FlashMall.Ordering.OrderingModule).Assembly,
        typeof(FlashMall.Payments.PaymentsModule).Assembly,
        typeof(FlashMall.Risk.RiskModule).Assembly,
        typeof(FlashMall.Ops.OpsModule).Assembly,
        typeof(FlashMall.Search.SearchModule).Assembly,
    ];

    private static readonly Assembly Kernel = typeof(FlashMall.Kernel.Hosting.KernelRegistration).Assembly;
    private static readonly Assembly Contracts = typeof(FlashMall.Contracts.Catalog.ICatalogStock).Assembly;
    private static readonly Assembly[] SharedAdapters =
    [
        typeof(FlashMall.RabbitMq.RabbitMqRegistration).Assembly,
        typeof(FlashMall.Redis.RedisRegistration).Assembly,
        typeof(FlashMall.Scheduling.SchedulingRegistration).Assembly,
    ];

    private static HashSet<string> FlashMallReferences(Assembly assembly) =>
        [.. assembly.GetReferencedAssemblies().Select(a => a.Name!).Where(n => n.StartsWith("FlashMall.", StringComparison.Ordinal))];

    [Fact]
    public void Modules_reference_only_the_kernel_and_the_contracts()
    {
        foreach (var module in Modules)
        {
            var references = FlashMallReferences(module);
            references.ExceptWith([Kernel.GetName().Name!, Contracts.GetName().Name!]);
            Assert.True(references.Count == 0, $"{module.GetName().Name} references {string.Join(", ", references)}");
        }
    }

    [Fact]
    public void Kernel_and_contracts_know_no_module()
    {
        Assert.Empty(FlashMallReferences(Kernel));
        Assert.Empty(FlashMallReferences(Contracts));
    }

    [Fact]
    public void Shared_adapters_reference_only_the_kernel()
    {
        foreach (var adapter in SharedAdapters)
        {
            Assert.Equal([Kernel.GetName().Name!], FlashMallReferences(adapter));
        }
    }

    [Fact]
    public void Each_module_has_one_public_entry_and_keeps_everything_else_internal()
    {
        foreach (var module in Modules)
        {
            // EF Core generates migrations as public classes; they are data, not an API.
            var exported = module.GetExportedTypes().Where(t => t.Namespace?.Contains(".Migrations.", StringComparison.Ordinal) != true).ToList();
            var entry = Assert.Single(exported);
            Assert.EndsWith("Module", entry.Name, StringComparison.Ordinal);
            Assert.True(entry.IsAbstract && entry.IsSealed, $"{entry.Name} should be a static class");
        }
    }

    [Fact]
    public void Concrete_internal_types_are_sealed_or_static()
    {
        var unsealed = Modules.Append(Kernel)
            .SelectMany(a => a.GetTypes())
            .Where(t => t.IsClass && !t.IsAbstract && !t.IsSealed && !t.IsNested && !t.IsPublic
                && !t.Name.StartsWith('<') && t.Namespace?.Contains(".Migrations.", StringComparison.Ordinal) != true
                && t.GetCustomAttribute<System.Runtime.CompilerServices.CompilerGeneratedAttribute>() is null)
            .Select(t => t.FullName)
            .ToList();
        Assert.Empty(unsealed);
    }
}
