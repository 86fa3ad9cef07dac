// Bare Kestrel plaintext: the baseline every FlashMall figure in docs/BENCHMARKS.md is divided by.
// Nothing but routing and one endpoint, so the ratio shows what FlashMall's pipeline and handlers cost.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);

var app = builder.Build();
app.MapGet("/plaintext", () => Results.Text("Hello, World!", "text/plain"));
// The same answer to a POST, so a load script that sends purchase-shaped requests (method,
// bearer token, JSON body) can drive the baseline exactly as it drives the purchase endpoint.
app.MapPost("/plaintext", () => Results.Text("Hello, World!", "text/plain"));
app.Run();
