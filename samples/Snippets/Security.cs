using Granary.Client;

namespace Granary.Samples.Snippets;

/// <summary>README: Security.</summary>
public static class Security
{
    /// <summary>Connects as the principal of an API key.</summary>
    public static async Task ConnectWithApiKeyAsync()
    {
        // <connect-api-key>
        await using var client = await GranaryClient.ConnectAsync(new GranaryClientOptions
        {
            Gateways = ["10.0.0.5:30000"],
            ApiKey = Environment.GetEnvironmentVariable("GRANARY_API_KEY"),   // or AccessToken / AccessTokenProvider, or a client certificate
        });
        // </connect-api-key>
    }
}
