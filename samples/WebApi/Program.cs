// An ASP.NET Core minimal API publishing from an endpoint; the README's ASP.NET Core snippets come from its regions.
using Granary.Client;

var builder = WebApplication.CreateBuilder(args);

// <webapi-register>
builder.Services.AddGranaryClient(options => options.Gateways = [builder.Configuration["Granary:Gateway"] ?? "127.0.0.1:30000"]);
// One producer for the application: it batches the sends of all requests.
builder.Services.AddSingleton(services => services.GetRequiredService<GranaryClient>().CreateProducer("orders"));
// </webapi-register>

var app = builder.Build();

// <webapi-publish>
app.MapPost("/orders/{id}", async (string id, HttpRequest request, GranaryProducer orders, CancellationToken cancellationToken) =>
{
    using var body = new MemoryStream();
    await request.Body.CopyToAsync(body, cancellationToken);
    try
    {
        SendReceipt receipt = await orders.SendAsync(new OutgoingMessage(body.ToArray()) { Key = id }, cancellationToken);
        return Results.Accepted(value: new { receipt.Partition, receipt.Offset });
    }
    catch (GranaryException e) when (e.IsRetriable)
    {
        return Results.Problem(e.Message, statusCode: StatusCodes.Status503ServiceUnavailable);
    }
});
// </webapi-publish>

app.Run();
