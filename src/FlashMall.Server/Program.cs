using FlashMall.Accounts;
using FlashMall.Archive;
using FlashMall.Catalog;
using FlashMall.Circle;
using FlashMall.Coupons;
using FlashMall.FlashSales;
using FlashMall.Kernel.Hosting;
using FlashMall.Kernel.Messaging;
using FlashMall.Kernel.Persistence;
using FlashMall.Media;
using FlashMall.Ops;
using FlashMall.Ordering;
using FlashMall.Payments;
using FlashMall.RabbitMq;
using FlashMall.Redis;
using FlashMall.Risk;
using FlashMall.Scheduling;
using FlashMall.Search;
using FlashMall.Server.Hosting;

// The data folder (SQLite WAL, keys) may sit under the content root: don't watch config files.
var builder = WebApplication.CreateBuilder([.. args, "--hostBuilder:reloadConfigOnChange=false"]);

builder.AddServiceDefaults();
builder.AddKernel();
builder.AddRedisWhenConfigured();
builder.AddRabbitMqWhenConfigured();

builder.AddAccounts();
builder.AddCatalog();
builder.AddFlashSales();
builder.AddOrdering();
builder.AddCoupons();
builder.AddPayments();
builder.AddRisk();
builder.AddSearch();
builder.AddMedia();
builder.AddCircle();
builder.AddOps();
builder.AddArchive();
builder.AddWeb();

builder.AddScheduling();

var app = builder.Build();

app.UseServiceDefaults();
app.UseOps(); // noncore.shed: 503 degraded for endpoints tagged non-core
app.UseRiskBlockList(); // Risk:BlockList on every API request
app.MapAccounts();
app.MapCatalog();
app.MapFlashSales();
app.MapOrdering();
app.MapCoupons();
app.MapPayments();
app.MapRisk();
app.MapSearch();
app.MapMedia();
app.MapCircle();
app.MapOps();
app.MapArchive();
app.MapScheduling();
app.MapDeadLetters();
app.MapDatabaseAdmin(); // slow queries, replica routing
app.MapWeb();

return await app.RunWithStartupChecksAsync();

/// <summary>Entry point, visible to the API tests' <c>WebApplicationFactory</c>.</summary>
public partial class Program;
