using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Granary.Cli.Api;

/// <summary>Calls the silo's admin HTTP API and turns every failure into a <see cref="CliException"/> with its exit code.</summary>
internal sealed class AdminApiClient(HttpClient http)
{
    public Uri BaseAddress => http.BaseAddress!;

    public Task<JsonNode?> GetAsync(string path, CancellationToken cancellationToken) => SendAsync(HttpMethod.Get, path, null, cancellationToken);

    public async Task<JsonNode?> SendAsync(HttpMethod method, string path, JsonNode? body, CancellationToken cancellationToken, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, contentType);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new CliException(ExitCodes.Unreachable, $"No admin API answers at {BaseAddress} ({e.Message}). Is the silo running? Set --url or GRANARY_URL.");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CliException(ExitCodes.Unreachable, $"The admin API at {BaseAddress} did not answer within {http.Timeout.TotalSeconds:0} s.");
        }
        using (response)
        {
            string text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode) throw CliException.FromResponse(response.StatusCode, text);
            try
            {
                return text.Length == 0 ? null : JsonNode.Parse(text);
            }
            catch (JsonException e)
            {
                throw new CliException(ExitCodes.ServerError, $"{BaseAddress} answered with something that is not JSON ({e.Message}); is it a Granary silo's admin URL?");
            }
        }
    }
}
