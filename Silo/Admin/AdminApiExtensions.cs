using System.Text.Json.Serialization;
using Granary.Client;
using Granary.Grains.Security;
using Granary.Silo.Startup;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.FileProviders;

namespace Granary.Silo.Admin;

/// <summary>Registers and maps the admin HTTP API, the web console and the health probes on the silo's web host.</summary>
public static class AdminApiExtensions
{
    /// <summary>
    /// Binds <see cref="AdminOptions"/> from <c>Granary:Admin</c>, checks them (a non-loopback URL needs an API key or
    /// security; with <c>Granary:Security:Enabled</c> on, <see cref="AdminOptions.ApiKey"/> is refused), sets the URLs
    /// Kestrel listens on and adds the API's services.
    /// </summary>
    /// <exception cref="InvalidOperationException">The options are unusable; the silo must not start half-open.</exception>
    /// <exception cref="SiloConfigurationException">A port of the URLs is taken by another process.</exception>
    public static WebApplicationBuilder AddGranaryAdminApi(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(AdminOptions.SectionName);
        var options = section.Get<AdminOptions>() ?? new AdminOptions();
        bool securityEnabled = builder.Configuration.GetSection(GranarySecurityOptions.SectionName).GetValue<bool>(nameof(GranarySecurityOptions.Enabled));
        options.Validate(securityEnabled);
        builder.Services.AddOptions<AdminOptions>().Bind(section);
        if (!options.Enabled) builder.Services.AddSingleton<IServer, NoHttpServer>();
        else
        {
            foreach (var endPoint in options.ListenEndPoints())
                PortProbe.EnsureFree(endPoint.Address, endPoint.Port, AdminOptions.SectionName + ":Urls");
            builder.WebHost.UseUrls(options.UrlList);
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes);
            if (options.UsesHttps) builder.WebHost.ConfigureKestrel(kestrel => AdminHttps.Configure(kestrel, options));
        }

        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<AdminExceptionHandler>();
        // Malformed bodies and parameters throw, so that the exception handler answers them as problem details.
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        builder.Services.AddOpenApi();
        builder.Services.AddSingleton(sp => GranaryClient.Create(sp.GetRequiredService<IClusterClient>()).Admin);
        builder.Services.AddSingleton<AdminAccess>();
        return builder;
    }

    /// <summary>
    /// Maps <c>/api/v1/*</c>, <c>/health/live</c>, <c>/health/ready</c>, <c>/openapi/v1.json</c> and the console's
    /// static files, behind the problem-details error handler, the cross-site request guard and the authentication
    /// (<see cref="AdminAuthentication"/>: principals with security on, else the API key if one is set).
    /// </summary>
    public static WebApplication MapGranaryAdminApi(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseMiddleware<CrossSiteRequestGuard>();
        app.UseMiddleware<AdminAuthentication>();
        var console = ConsoleFiles(app.Environment);
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = console });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = console });
        var api = app.MapGroup("/api/v1");
        api.MapTopics();
        api.MapGroups();
        api.MapDeadLetters();
        api.MapCluster();
        api.MapDamage();
        api.MapKeys();
        api.MapAcls();
        api.MapAudit();
        api.MapWhoAmI();
        app.MapHealth();
        app.MapOpenApi();
        return app;
    }

    /// <summary>
    /// The console's files: the wwwroot beside the assembly when there is one, because the host's web root is under the
    /// working directory, which is wherever the silo was started from; else the host's (<c>dotnet run</c> in development).
    /// </summary>
    private static IFileProvider ConsoleFiles(IWebHostEnvironment environment)
    {
        string besideAssembly = Path.Combine(AppContext.BaseDirectory, "wwwroot");
        return Directory.Exists(besideAssembly) ? new PhysicalFileProvider(besideAssembly) : environment.WebRootFileProvider;
    }

    /// <summary>Stands in for Kestrel when the admin API is turned off: the silo then listens on no HTTP port.</summary>
    private sealed class NoHttpServer : IServer
    {
        public IFeatureCollection Features { get; } = new FeatureCollection();

        public Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken) where TContext : notnull => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public void Dispose()
        {
        }
    }
}
