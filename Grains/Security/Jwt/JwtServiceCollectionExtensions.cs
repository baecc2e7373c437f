using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Granary.Grains.Security.Jwt;

/// <summary>Registers the JWT door.</summary>
public static class JwtServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="JwtAuthenticator"/> as a singleton, with <see cref="JwtOptions"/> bound from
    /// <c>Granary:Security:Jwt</c> and validated at start. Harmless when the section is absent: the door stays off.
    /// </summary>
    public static IServiceCollection AddJwtAuthentication(this IServiceCollection services, Action<JwtOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<JwtOptions>().BindConfiguration(JwtOptions.SectionName).ValidateOnStart();
        if (configure is not null) options.Configure(configure);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<JwtOptions>, JwtOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<JwtAuthenticator>();
        return services;
    }
}
