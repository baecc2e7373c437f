using System.Net;
using System.Net.Sockets;
using Granary.Grains.Security.Jwt;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.Tokens;

namespace Granary.Tests.Security;

/// <summary>
/// The JWT door: tokens of the configured issuer, checked by Microsoft's library against a JWKS file or the issuer's
/// OpenID Connect metadata, on a fake clock.
/// </summary>
public sealed class JwtAuthenticatorTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly TestJwtIssuer _issuer = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly string _keysPath;

    public JwtAuthenticatorTests()
    {
        _keysPath = Path.Combine(_directory.Path, "jwks.json");
        File.WriteAllText(_keysPath, _issuer.JwksJson());
    }

    public void Dispose()
    {
        _issuer.Dispose();
        _directory.Dispose();
    }

    private JwtOptions FileOptions(Action<JwtOptions>? change = null)
    {
        var options = new JwtOptions { Issuer = TestJwtIssuer.Name, Audience = TestJwtIssuer.Audience, SigningKeysPath = _keysPath };
        change?.Invoke(options);
        return options;
    }

    private JwtAuthenticator Authenticator(JwtOptions options)
    {
        var validation = new JwtOptionsValidator().Validate(null, options);
        Assert.True(validation.Succeeded, validation.FailureMessage);
        return new JwtAuthenticator(Options.Create(options), _time, NullLogger<JwtAuthenticator>.Instance);
    }

    private static async Task<JwtAuthentication> CheckAsync(JwtAuthenticator authenticator, string token)
    {
        var result = await authenticator.AuthenticateAsync(token, TestContext.Current.CancellationToken);
        Assert.NotNull(result);
        return result;
    }

    private static void AssertRefused(JwtAuthentication result, JwtFailureReason reason)
    {
        Assert.False(result.Succeeded);
        Assert.Equal(reason, result.Failure);
        Assert.Null(result.Principal);
        Assert.False(string.IsNullOrWhiteSpace(result.Message));
    }

    [Fact]
    public async Task ValidToken_NamesThePrincipalFromSub_AndItsExpiry()
    {
        using var authenticator = Authenticator(FileOptions());
        string token = _issuer.Mint(_time.GetUtcNow(), lifetime: TimeSpan.FromMinutes(30));

        var result = await CheckAsync(authenticator, token);

        Assert.True(result.Succeeded, result.Message);
        Assert.Equal("alice", result.Principal);
        Assert.Equal(JwtFailureReason.None, result.Failure);
        // exp has whole seconds.
        Assert.InRange(result.ExpiresAt!.Value, _time.GetUtcNow().AddMinutes(30).AddSeconds(-1), _time.GetUtcNow().AddMinutes(30));
    }

    [Fact]
    public async Task ValidToken_SecondCheck_IsServedFromTheCache()
    {
        using var authenticator = Authenticator(FileOptions());
        string token = _issuer.Mint(_time.GetUtcNow());

        var first = await CheckAsync(authenticator, token);
        // A second validation would build a new result; the cache hands back the one it holds.
        var second = await CheckAsync(authenticator, token);

        Assert.True(first.Succeeded, first.Message);
        Assert.Same(first, second);
    }

    [Fact]
    public async Task CustomPrincipalClaim_NamesThePrincipal()
    {
        using var authenticator = Authenticator(FileOptions(o => o.PrincipalClaim = "preferred_username"));
        string token = _issuer.Mint(_time.GetUtcNow(), new Dictionary<string, object> { ["sub"] = "f81d4fae", ["preferred_username"] = "billing-service" });

        var result = await CheckAsync(authenticator, token);

        Assert.True(result.Succeeded, result.Message);
        Assert.Equal("billing-service", result.Principal);
    }

    [Fact]
    public async Task MissingPrincipalClaim_IsRefused()
    {
        using var authenticator = Authenticator(FileOptions(o => o.PrincipalClaim = "preferred_username"));
        string token = _issuer.Mint(_time.GetUtcNow());   // has sub only

        AssertRefused(await CheckAsync(authenticator, token), JwtFailureReason.MissingPrincipalClaim);
    }

    [Fact]
    public async Task ExpiredToken_IsRefused_EvenAfterItWasCachedAsValid()
    {
        using var authenticator = Authenticator(FileOptions());
        string token = _issuer.Mint(_time.GetUtcNow(), lifetime: TimeSpan.FromMinutes(5));
        Assert.True((await CheckAsync(authenticator, token)).Succeeded);

        // Within the clock skew (1 minute) after exp it is still taken; past it, no longer.
        _time.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(30));
        Assert.True((await CheckAsync(authenticator, token)).Succeeded);
        _time.Advance(TimeSpan.FromMinutes(1));

        AssertRefused(await CheckAsync(authenticator, token), JwtFailureReason.Expired);
    }

    [Fact]
    public async Task TokenNotYetValid_IsRefused()
    {
        using var authenticator = Authenticator(FileOptions());
        string token = _issuer.Mint(_time.GetUtcNow().AddMinutes(10));

        AssertRefused(await CheckAsync(authenticator, token), JwtFailureReason.NotYetValid);
    }

    [Fact]
    public async Task TokenWithoutExpiry_IsRefused()
    {
        using var authenticator = Authenticator(FileOptions());
        string token = _issuer.Mint(_time.GetUtcNow(), withExpiry: false);

        AssertRefused(await CheckAsync(authenticator, token), JwtFailureReason.MissingExpiry);
    }

    [Fact]
    public async Task WrongIssuer_IsRefused()
    {
        using var authenticator = Authenticator(FileOptions());
        string token = _issuer.Mint(_time.GetUtcNow(), issuer: "https://evil.test/realms/granary");

        AssertRefused(await CheckAsync(authenticator, token), JwtFailureReason.WrongIssuer);
    }

    [Fact]
    public async Task WrongAudience_IsRefused()
    {
        using var authenticator = Authenticator(FileOptions());
        string token = _issuer.Mint(_time.GetUtcNow(), audience: "some-other-service");

        AssertRefused(await CheckAsync(authenticator, token), JwtFailureReason.WrongAudience);
    }

    [Fact]
    public async Task TokenSignedByAnotherKey_IsRefused()
    {
        using var authenticator = Authenticator(FileOptions());
        using var stranger = new TestJwtIssuer();
        // Same kid as the trusted key, so the verifier cannot tell by the id alone.
        var forged = stranger.Credentials();
        ((RsaSecurityKey)forged.Key).KeyId = _issuer.CurrentKeyId;
        string token = _issuer.Mint(_time.GetUtcNow(), credentials: forged);

        AssertRefused(await CheckAsync(authenticator, token), JwtFailureReason.InvalidSignature);
    }

    [Fact]
    public async Task UnsignedToken_AlgNone_IsRefused()
    {
        using var authenticator = Authenticator(FileOptions());
        string token = _issuer.Mint(_time.GetUtcNow(), unsigned: true);
        Assert.True(JwtAuthenticator.LooksLikeJwt(token));

        AssertRefused(await CheckAsync(authenticator, token), JwtFailureReason.InvalidSignature);
    }

    [Fact]
    public async Task Hs256TokenKeyedWithThePublicKey_IsRefused()
    {
        // The classic confusion: a verifier that lets the token pick the algorithm would check an HMAC keyed with the
        // (public) RSA key and accept a token anyone can make.
        using var authenticator = Authenticator(FileOptions());
        var hmacKey = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(_issuer.PublicKeyPem)) { KeyId = _issuer.CurrentKeyId };
        string token = _issuer.Mint(_time.GetUtcNow(), credentials: new SigningCredentials(hmacKey, SecurityAlgorithms.HmacSha256));

        AssertRefused(await CheckAsync(authenticator, token), JwtFailureReason.InvalidSignature);
    }

    [Fact]
    public async Task Hs256Token_IsRefused_EvenWhenTheKeySetPublishesItsSecret()
    {
        // A key set that (by mistake) publishes a shared secret beside the issuer's RSA key must not let HMAC tokens
        // in: such keys are not taken as signing keys, and only RS*, PS* and ES* algorithms are allowed anyway.
        byte[] secret = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
        string rsaKeys = _issuer.JwksJson();
        string withSecret = rsaKeys.Insert(rsaKeys.IndexOf('[', StringComparison.Ordinal) + 1, $"{{\"kty\":\"oct\",\"use\":\"sig\",\"kid\":\"shared\",\"k\":\"{Base64UrlEncoder.Encode(secret)}\"}},");
        File.WriteAllText(_keysPath, withSecret);
        using var authenticator = Authenticator(FileOptions());
        Assert.True((await CheckAsync(authenticator, _issuer.Mint(_time.GetUtcNow()))).Succeeded);
        var hmacKey = new SymmetricSecurityKey(secret) { KeyId = "shared" };
        string token = _issuer.Mint(_time.GetUtcNow(), credentials: new SigningCredentials(hmacKey, SecurityAlgorithms.HmacSha256));

        AssertRefused(await CheckAsync(authenticator, token), JwtFailureReason.InvalidSignature);
    }

    [Fact]
    public async Task Rs512AndPs256_AreAccepted()
    {
        using var authenticator = Authenticator(FileOptions());

        foreach (string algorithm in new[] { SecurityAlgorithms.RsaSha512, SecurityAlgorithms.RsaSsaPssSha256 })
        {
            string token = _issuer.Mint(_time.GetUtcNow(), credentials: _issuer.Credentials(algorithm: algorithm));
            var result = await CheckAsync(authenticator, token);
            Assert.True(result.Succeeded, $"{algorithm}: {result.Message}");
        }
    }

    [Fact]
    public async Task Es256Token_FromAnEcKeyInTheKeySet_IsAccepted()
    {
        using var ec = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var p = ec.ExportParameters(includePrivateParameters: false);
        File.WriteAllText(_keysPath, System.Text.Json.JsonSerializer.Serialize(new
        {
            keys = new[] { new { kty = "EC", use = "sig", crv = "P-256", kid = "ec-1", x = Base64UrlEncoder.Encode(p.Q.X), y = Base64UrlEncoder.Encode(p.Q.Y) } },
        }));
        using var authenticator = Authenticator(FileOptions());
        string token = _issuer.Mint(_time.GetUtcNow(), credentials: new SigningCredentials(new ECDsaSecurityKey(ec) { KeyId = "ec-1" }, SecurityAlgorithms.EcdsaSha256));

        var result = await CheckAsync(authenticator, token);

        Assert.True(result.Succeeded, result.Message);
        Assert.Equal("alice", result.Principal);
    }

    [Theory]
    [InlineData("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl")]   // header lacks typ/kid, signature is junk
    [InlineData("eyJub3QganNvbg.eyJzdWIiOiJhbGljZSJ9.c2ln")]                  // header is not JSON
    [InlineData("eyJ.eyJ.x")]
    public async Task MalformedToken_IsRefused_WithoutThrowing(string token)
    {
        using var authenticator = Authenticator(FileOptions());
        Assert.True(JwtAuthenticator.LooksLikeJwt(token));

        var result = await CheckAsync(authenticator, token);

        Assert.False(result.Succeeded);
        Assert.NotEqual(JwtFailureReason.None, result.Failure);
    }

    [Fact]
    public async Task OversizedToken_IsRefusedAsMalformed()
    {
        using var authenticator = Authenticator(FileOptions());
        string token = _issuer.Mint(_time.GetUtcNow(), new Dictionary<string, object> { ["sub"] = "alice", ["padding"] = new string('x', JwtAuthenticator.MaxTokenBytes) });

        AssertRefused(await CheckAsync(authenticator, token), JwtFailureReason.Malformed);
    }

    [Theory]
    [InlineData("gk_0123456789abcdef_c2VjcmV0")]
    [InlineData("gs_c2Vzc2lvbg")]
    [InlineData("eyJhbGciOiJSUzI1NiJ9")]
    [InlineData("eyJhbGciOiJSUzI1NiJ9..c2ln")]
    [InlineData("eyJhbGciOiJSUzI1NiJ9.eyJ9.c2ln.ZXh0cmE")]
    [InlineData("eyJhbGciOiJSUzI1NiJ9.eyJ9.c2ln+/=")]
    [InlineData("")]
    public async Task NotAJwt_IsNotThisDoorsBusiness(string credential)
    {
        using var authenticator = Authenticator(FileOptions());

        Assert.False(JwtAuthenticator.LooksLikeJwt(credential));
        Assert.Null(await authenticator.AuthenticateAsync(credential, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task DoorOff_AnswersNullToEveryToken()
    {
        using var authenticator = new JwtAuthenticator(Options.Create(new JwtOptions()), _time, NullLogger<JwtAuthenticator>.Instance);
        string token = _issuer.Mint(_time.GetUtcNow());

        Assert.False(authenticator.Enabled);
        Assert.True(JwtAuthenticator.LooksLikeJwt(token));
        Assert.Null(await authenticator.AuthenticateAsync(token, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task KeysFile_IsReread_WhenTheIssuerRotatesItsKeys()
    {
        using var authenticator = Authenticator(FileOptions());
        string oldKey = _issuer.CurrentKeyId;
        Assert.True((await CheckAsync(authenticator, _issuer.Mint(_time.GetUtcNow()))).Succeeded);

        string newKey = _issuer.AddKey();
        string tokenOfNewKey = _issuer.Mint(_time.GetUtcNow(), credentials: _issuer.Credentials(newKey));
        string tokenOfOldKey = _issuer.Mint(_time.GetUtcNow(), new Dictionary<string, object> { ["sub"] = "bob" }, credentials: _issuer.Credentials(oldKey));
        _issuer.RemoveKey(oldKey);
        File.WriteAllText(_keysPath, _issuer.JwksJson());
        File.SetLastWriteTimeUtc(_keysPath, DateTime.UtcNow.AddMinutes(1));   // a change of stamp even on a coarse file clock

        var accepted = await CheckAsync(authenticator, tokenOfNewKey);
        Assert.True(accepted.Succeeded, accepted.Message);
        AssertRefused(await CheckAsync(authenticator, tokenOfOldKey), JwtFailureReason.InvalidSignature);
    }

    [Fact]
    public async Task KeysFile_Garbled_KeepsTheKeysReadBefore()
    {
        using var authenticator = Authenticator(FileOptions());
        Assert.True((await CheckAsync(authenticator, _issuer.Mint(_time.GetUtcNow()))).Succeeded);

        File.WriteAllText(_keysPath, "{\"keys\": [ half-written");
        File.SetLastWriteTimeUtc(_keysPath, DateTime.UtcNow.AddMinutes(1));

        var result = await CheckAsync(authenticator, _issuer.Mint(_time.GetUtcNow(), new Dictionary<string, object> { ["sub"] = "carol" }));
        Assert.True(result.Succeeded, result.Message);
        Assert.Equal("carol", result.Principal);
    }

    [Fact]
    public async Task Metadata_DiscoversTheKeys_AndPicksUpARotatedKeyAfterRefresh()
    {
        await using var server = await MetadataServer.StartAsync(_issuer);
        using var authenticator = Authenticator(new JwtOptions
        {
            Issuer = TestJwtIssuer.Name,
            Audience = TestJwtIssuer.Audience,
            MetadataAddress = server.MetadataAddress,
            RequireHttpsMetadata = false,
            MetadataRefreshInterval = TimeSpan.FromSeconds(1),
        });

        var first = await CheckAsync(authenticator, _issuer.Mint(_time.GetUtcNow()));
        Assert.True(first.Succeeded, first.Message);
        Assert.Equal("alice", first.Principal);
        Assert.Equal(1, server.KeySetRequests);

        // The issuer rotates: a new key appears in its key set, the old one leaves.
        string oldKey = _issuer.CurrentKeyId;
        string newKey = _issuer.AddKey();
        string tokenOfOldKey = _issuer.Mint(_time.GetUtcNow(), new Dictionary<string, object> { ["sub"] = "bob" }, credentials: _issuer.Credentials(oldKey));
        _issuer.RemoveKey(oldKey);
        string tokenOfNewKey = _issuer.Mint(_time.GetUtcNow(), new Dictionary<string, object> { ["sub"] = "dave" }, credentials: _issuer.Credentials(newKey));

        // The unknown kid makes the library ask for a refresh, which it fetches in the background: poll.
        JwtAuthentication? rotated = null;
        await Eventually.UntilAsync(async () => (rotated = await CheckAsync(authenticator, tokenOfNewKey)).Succeeded);
        Assert.Equal("dave", rotated!.Principal);
        Assert.True(server.KeySetRequests >= 2);

        AssertRefused(await CheckAsync(authenticator, tokenOfOldKey), JwtFailureReason.InvalidSignature);
    }

    [Fact]
    public async Task Metadata_Unreachable_RefusesWithKeysUnavailable_WithoutThrowing_AndWarnsOncePerMinute()
    {
        int closedPort;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            closedPort = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        var logger = new WarningCollector();
        using var authenticator = new JwtAuthenticator(Options.Create(new JwtOptions
        {
            Issuer = TestJwtIssuer.Name,
            Audience = TestJwtIssuer.Audience,
            MetadataAddress = $"http://127.0.0.1:{closedPort}/.well-known/openid-configuration",
            RequireHttpsMetadata = false,
        }), _time, logger);

        AssertRefused(await CheckAsync(authenticator, _issuer.Mint(_time.GetUtcNow())), JwtFailureReason.KeysUnavailable);
        AssertRefused(await CheckAsync(authenticator, _issuer.Mint(_time.GetUtcNow())), JwtFailureReason.KeysUnavailable);
        Assert.Equal(1, logger.Warnings);

        _time.Advance(TimeSpan.FromMinutes(1));
        AssertRefused(await CheckAsync(authenticator, _issuer.Mint(_time.GetUtcNow())), JwtFailureReason.KeysUnavailable);
        Assert.Equal(2, logger.Warnings);
    }

    [Fact]
    public async Task KeysFile_WithoutKeys_RefusesWithKeysUnavailable()
    {
        File.WriteAllText(_keysPath, "{\"keys\":[]}");
        using var authenticator = Authenticator(FileOptions());

        AssertRefused(await CheckAsync(authenticator, _issuer.Mint(_time.GetUtcNow())), JwtFailureReason.KeysUnavailable);
    }

    [Fact]
    public void AddJwtAuthentication_BindsTheSection_AndBuildsTheAuthenticator()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Granary:Security:Jwt:Issuer"] = TestJwtIssuer.Name,
            ["Granary:Security:Jwt:Audience"] = TestJwtIssuer.Audience,
            ["Granary:Security:Jwt:SigningKeysPath"] = _keysPath,
            ["Granary:Security:Jwt:PrincipalClaim"] = "email",
            ["Granary:Security:Jwt:ClockSkew"] = "00:00:30",
        }).Build();
        using var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddLogging().AddJwtAuthentication().BuildServiceProvider();

        var options = services.GetRequiredService<IOptions<JwtOptions>>().Value;
        Assert.Equal("email", options.PrincipalClaim);
        Assert.Equal(TimeSpan.FromSeconds(30), options.ClockSkew);
        Assert.True(services.GetRequiredService<JwtAuthenticator>().Enabled);
    }

    [Fact]
    public void AddJwtAuthentication_InvalidSection_FailsWithTheSettingsName()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Granary:Security:Jwt:Issuer"] = TestJwtIssuer.Name,
            ["Granary:Security:Jwt:SigningKeysPath"] = _keysPath,
        }).Build();
        using var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddLogging().AddJwtAuthentication().BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<JwtOptions>>().Value);
        Assert.Contains("Granary:Security:Jwt:Audience", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Counts warnings.</summary>
    private sealed class WarningCollector : ILogger<JwtAuthenticator>
    {
        private int _warnings;

        public int Warnings => Volatile.Read(ref _warnings);

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Warning) Interlocked.Increment(ref _warnings);
        }
    }

    /// <summary>A discovery document and key set served over plain http on loopback, as an issuer would.</summary>
    private sealed class MetadataServer : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private int _keySetRequests;

        private MetadataServer(WebApplication app) => _app = app;

        public string MetadataAddress => $"{_app.Urls.Single()}/.well-known/openid-configuration";

        public int KeySetRequests => Volatile.Read(ref _keySetRequests);

        public static async Task<MetadataServer> StartAsync(TestJwtIssuer issuer)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            var server = new MetadataServer(app);
            app.MapGet("/.well-known/openid-configuration", () => Results.Json(new Dictionary<string, object>
            {
                ["issuer"] = TestJwtIssuer.Name,
                ["jwks_uri"] = $"{app.Urls.Single()}/jwks",
                ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
            }));
            app.MapGet("/jwks", () =>
            {
                Interlocked.Increment(ref server._keySetRequests);
                return Results.Text(issuer.JwksJson(), "application/json");
            });
            await app.StartAsync();
            return server;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
