using System.Buffers;
using System.Security.Claims;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Granary.Grains.Security.Jwt;

/// <summary>
/// Checks JSON Web Tokens from the issuer configured in <see cref="JwtOptions"/> with Microsoft's token validation
/// library: signature (asymmetric algorithms only), issuer, audience, lifetime on the injected clock, and the principal
/// claim. Valid tokens are remembered until they expire, so a client that sends the same token on every call pays for
/// one signature check. Thread-safe; one per silo.
/// </summary>
public sealed partial class JwtAuthenticator : IDisposable
{
    /// <summary>Most valid tokens remembered at once.</summary>
    public const int CacheCapacity = 10_000;

    /// <summary>Longest token accepted, in bytes; longer ones are refused as <see cref="JwtFailureReason.Malformed"/>.</summary>
    public const int MaxTokenBytes = 16 * 1024;

    /// <summary>The signing algorithms accepted. Never <c>none</c>, never HMAC: the keys are public, so an HS* token could be forged with them.</summary>
    public static readonly IReadOnlyList<string> AllowedAlgorithms =
    [
        SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
        SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.RsaSsaPssSha384, SecurityAlgorithms.RsaSsaPssSha512,
        SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512,
    ];

    private const int MaxPrincipalLength = 256;

    // A JWS in compact form: base64url segments and the two dots between them.
    private static readonly SearchValues<char> s_compactJwsChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.");

    private readonly JwtOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly JsonWebTokenHandler _handler = new() { MaximumTokenSizeInBytes = MaxTokenBytes };
    private readonly TokenValidationParameters? _parameters;
    private readonly JwtValidationCache _cache = new(CacheCapacity);
    private readonly HttpClient? _metadataClient;
    private readonly ConfigurationManager<OpenIdConnectConfiguration>? _configurationManager;
    private readonly JwtSigningKeysFile? _keysFile;
    private long _keysWarningLoggedAt;   // UTC ticks of the last "keys unavailable" warning

    /// <summary>Creates the authenticator; with the door off (<see cref="JwtOptions.Enabled"/> false) it answers null to every token.</summary>
    public JwtAuthenticator(IOptions<JwtOptions> options, TimeProvider timeProvider, ILogger<JwtAuthenticator> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        _options = options.Value;
        _timeProvider = timeProvider;
        _logger = logger;
        if (!_options.Enabled) return;

        string issuer = _options.Issuer!;
        _parameters = new TokenValidationParameters
        {
            ValidateIssuer = true,
            ValidIssuer = issuer,
            // Exactly the configured issuer: without this the library would also take the issuer the metadata names.
            IssuerValidator = (tokenIssuer, _, _) => string.Equals(tokenIssuer, issuer, StringComparison.Ordinal)
                ? tokenIssuer
                : throw new SecurityTokenInvalidIssuerException("The token's issuer is not the configured issuer.") { InvalidIssuer = tokenIssuer },
            ValidateAudience = true,
            ValidAudience = _options.Audience,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            ClockSkew = _options.ClockSkew,
            // The library reads the system clock; this delegate puts the lifetime rule on the injected one.
            LifetimeValidator = (notBefore, expires, _, _) => ValidateLifetime(notBefore, expires),
            RequireSignedTokens = true,
            ValidAlgorithms = AllowedAlgorithms,
        };

        if (!string.IsNullOrWhiteSpace(_options.SigningKeysPath))
        {
            var keysFile = _keysFile = new JwtSigningKeysFile(_options.SigningKeysPath, logger);
            _parameters.IssuerSigningKeyResolver = (_, _, _, _) => keysFile.Current();
        }
        else
        {
            _metadataClient = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            var retriever = new HttpDocumentRetriever(_metadataClient) { RequireHttps = _options.RequireHttpsMetadata };
            // Caches the discovery document and its key set, refreshes them on its own, and again when the token
            // handler meets an unknown key id (it calls RequestRefresh itself), at most once per RefreshInterval.
            _configurationManager = new ConfigurationManager<OpenIdConnectConfiguration>(
                _options.MetadataAddress!, new OpenIdConnectConfigurationRetriever(), retriever)
            {
                AutomaticRefreshInterval = _options.MetadataAutomaticRefreshInterval,
                RefreshInterval = _options.MetadataRefreshInterval,
                // A key the issuer has withdrawn stops working once the new key set is fetched.
                UseLastKnownGoodConfiguration = false,
            };
            _parameters.ConfigurationManager = _configurationManager;
        }
    }

    /// <summary>True when the JWT door is configured.</summary>
    public bool Enabled => _parameters is not null;

    /// <summary>
    /// True when <paramref name="credential"/> has the shape of a signed JWT in compact form: three base64url segments
    /// separated by dots, the first (the header) starting with <c>eyJ</c>. Lets the caller route credentials without
    /// parsing them (API keys start with <c>gk_</c>, session tokens with <c>gs_</c>). The signature segment may be empty,
    /// so that an unsigned token is refused as such rather than mistaken for some other kind of credential.
    /// </summary>
    public static bool LooksLikeJwt(string? credential)
    {
        if (credential is null || !credential.StartsWith("eyJ", StringComparison.Ordinal)) return false;
        var span = credential.AsSpan();
        if (span.ContainsAnyExcept(s_compactJwsChars)) return false;
        int firstDot = span.IndexOf('.');
        if (firstDot < 0) return false;
        int secondDot = span[(firstDot + 1)..].IndexOf('.');
        if (secondDot <= 0) return false;   // no payload segment
        return !span[(firstDot + 1 + secondDot + 1)..].Contains('.');
    }

    /// <summary>
    /// Checks <paramref name="token"/>. Null when it is not for this door (the door is off, or the text does not look
    /// like a JWT, see <see cref="LooksLikeJwt"/>); otherwise the principal and expiry, or why the token was refused.
    /// Never throws for a bad token.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public ValueTask<JwtAuthentication?> AuthenticateAsync(string token, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (_parameters is null || !LooksLikeJwt(token)) return ValueTask.FromResult<JwtAuthentication?>(null);
        return _cache.TryGet(token, _timeProvider.GetUtcNow(), out var cached)
            ? ValueTask.FromResult<JwtAuthentication?>(cached)    // common case: a dictionary lookup
            : ValidateAsync(token, _parameters, cancellationToken);
    }

    /// <inheritdoc />
    public void Dispose() => _metadataClient?.Dispose();

    private async ValueTask<JwtAuthentication?> ValidateAsync(string token, TokenValidationParameters parameters, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (_keysFile is not null && _keysFile.Current().Count == 0)
            return KeysUnavailable(new InvalidOperationException($"No usable signing key in {_options.SigningKeysPath}."));
        if (_configurationManager is not null)
        {
            // The token handler would swallow a failed fetch and report a bad signature; ask first (a cached answer
            // costs nothing, and after a failure the manager backs off instead of fetching again) to say what is wrong.
            try
            {
                await _configurationManager.GetConfigurationAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return KeysUnavailable(e);
            }
        }
        TokenValidationResult result = await _handler.ValidateTokenAsync(token, parameters).ConfigureAwait(false);
        var authentication = result.IsValid ? Accept((JsonWebToken)result.SecurityToken) : Refuse(result.Exception);
        if (authentication.Succeeded) _cache.Add(token, authentication, _timeProvider.GetUtcNow());
        else LogRefused(_logger, authentication.Failure, authentication.Message!);
        return authentication;
    }

    private bool ValidateLifetime(DateTime? notBefore, DateTime? expires)
    {
        if (expires is not { } validTo) throw new SecurityTokenNoExpirationException("The token has no expiry.");
        if (notBefore is { } validFrom && validFrom > validTo)
            throw new SecurityTokenInvalidLifetimeException("The token's 'nbf' is after its 'exp'.") { NotBefore = validFrom, Expires = validTo };
        DateTime now = _timeProvider.GetUtcNow().UtcDateTime;
        if (notBefore is { } nbf && nbf > now + _options.ClockSkew)
            throw new SecurityTokenNotYetValidException("The token is not valid yet.") { NotBefore = nbf };
        if (validTo < now - _options.ClockSkew)
            throw new SecurityTokenExpiredException("The token has expired.") { Expires = validTo };
        return true;
    }

    private JwtAuthentication Accept(JsonWebToken jwt)
    {
        string claimType = _options.PrincipalClaim;
        if (!jwt.TryGetClaim(claimType, out Claim? claim)
            || claim.ValueType is not (ClaimValueTypes.String or ClaimValueTypes.Integer or ClaimValueTypes.Integer32 or ClaimValueTypes.Integer64 or ClaimValueTypes.UInteger32 or ClaimValueTypes.UInteger64))
        {
            return JwtAuthentication.Failed(JwtFailureReason.MissingPrincipalClaim, $"The token has no '{claimType}' claim with a single text value to name its principal.");
        }
        string principal = claim.Value;
        if (string.IsNullOrWhiteSpace(principal) || principal.Length > MaxPrincipalLength || principal.AsSpan().ContainsAnyInRange('\0', '\u001f'))
            return JwtAuthentication.Failed(JwtFailureReason.MissingPrincipalClaim, $"The token's '{claimType}' claim is empty, longer than {MaxPrincipalLength} characters or holds control characters.");
        return JwtAuthentication.Success(principal, new DateTimeOffset(DateTime.SpecifyKind(jwt.ValidTo, DateTimeKind.Utc)));
    }

    private JwtAuthentication Refuse(Exception? error)
    {
        // The library's own messages may carry token contents; ours never do.
        return error switch
        {
            SecurityTokenExpiredException => JwtAuthentication.Failed(JwtFailureReason.Expired, "The token has expired."),
            SecurityTokenNotYetValidException => JwtAuthentication.Failed(JwtFailureReason.NotYetValid, "The token is not valid yet (its 'nbf' is in the future)."),
            SecurityTokenNoExpirationException => JwtAuthentication.Failed(JwtFailureReason.MissingExpiry, "The token has no expiry ('exp'); such tokens are refused."),
            SecurityTokenInvalidLifetimeException => JwtAuthentication.Failed(JwtFailureReason.NotYetValid, "The token's lifetime is invalid ('nbf' after 'exp')."),
            SecurityTokenInvalidIssuerException => JwtAuthentication.Failed(JwtFailureReason.WrongIssuer, $"The token's issuer is not '{_options.Issuer}'."),
            SecurityTokenInvalidAudienceException => JwtAuthentication.Failed(JwtFailureReason.WrongAudience, $"The token's audience does not include '{_options.Audience}'."),
            SecurityTokenInvalidAlgorithmException => JwtAuthentication.Failed(JwtFailureReason.AlgorithmNotAllowed, "The token's signing algorithm is not allowed (only RS*, PS* and ES* are)."),
            SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => JwtAuthentication.Failed(JwtFailureReason.InvalidSignature, "The token's signature does not verify with the issuer's keys, or it is unsigned."),
            SecurityTokenMalformedException or ArgumentException => JwtAuthentication.Failed(JwtFailureReason.Malformed, "The token is not a well-formed signed JWT."),
            _ => JwtAuthentication.Failed(JwtFailureReason.Invalid, $"The token is invalid ({error?.GetType().Name ?? "no reason given"})."),
        };
    }

    private JwtAuthentication KeysUnavailable(Exception error)
    {
        // Tokens keep coming while the issuer is unreachable: say so once a minute, not once per call.
        long now = _timeProvider.GetUtcNow().UtcTicks;
        long last = Interlocked.Read(ref _keysWarningLoggedAt);
        if (now - last >= TimeSpan.TicksPerMinute && Interlocked.CompareExchange(ref _keysWarningLoggedAt, now, last) == last)
            LogKeysUnavailable(_logger, _options.MetadataAddress ?? _options.SigningKeysPath ?? "", error);
        return JwtAuthentication.Failed(JwtFailureReason.KeysUnavailable, "The issuer's signing keys are not available to the silo right now.");
    }

    [LoggerMessage(1753, LogLevel.Debug, "Refused a JWT ({Reason}): {Message}")]
    private static partial void LogRefused(ILogger logger, JwtFailureReason reason, string message);

    [LoggerMessage(1754, LogLevel.Warning, "Cannot get the JWT issuer's signing keys from {Source}")]
    private static partial void LogKeysUnavailable(ILogger logger, string source, Exception error);
}
