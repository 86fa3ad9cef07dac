// Bare Kestrel plaintext: the baseline every FlashMall figure in docs/BENCHMARKS.md is divided by.
// Nothing but routing and one endpoint, so the ratio shows what FlashMall's pipeline and handlers cost.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);

var app = builder.Build();
app.MapGet("/plaintext", () => Results.Text("Hello, World!", "text/plain"));
app.Run();
