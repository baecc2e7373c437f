// The README's TLS client (section TLS, "Connect a client"): the region below is the README's block.
// <tls-connect>
using Granary.Client;

await using var client = await GranaryClient.ConnectAsync(new GranaryClientOptions
{
    Gateways = ["127.0.0.1:30000"],
    Tls = new GranaryClientTlsOptions
    {
        Enabled = true,
        TrustedCaPath = "./certs/ca.pem",            // the CA that issued the silos' certificates
        // Mutual TLS only: this client's certificate and key.
        CertificatePath = "./certs/client.pem",
        KeyPath = "./certs/client.key",
        // Optional: also require the silo certificate to be issued for this name (and send it as SNI).
        // TargetHost = "localhost",
    },
});
// </tls-connect>

Console.WriteLine($"connected over TLS; topics: {string.Join(", ", await client.Admin.ListTopicsAsync())}");
