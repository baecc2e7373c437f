using System.Net;
using Orleans.Configuration;

namespace Granary.Silo.Startup;

/// <summary>Where Orleans will listen, as its endpoint options stand once every setting has been applied.</summary>
/// <param name="Silo">The silo-to-silo port's endpoint.</param>
/// <param name="Gateway">The client gateway's endpoint; null when the gateway is off (gateway port 0).</param>
internal sealed record OrleansListeningEndpoints(IPEndPoint Silo, IPEndPoint? Gateway)
{
    /// <summary>
    /// Reads the endpoints as Orleans does: an explicit listening endpoint, else the advertised address with the port.
    /// Taken from the built options (not from Granary's settings alone), so that Orleans' own configuration
    /// (<c>Orleans:Endpoints:*</c>) is seen as well.
    /// </summary>
    /// <exception cref="SiloConfigurationException">No address is set at all.</exception>
    public static OrleansListeningEndpoints From(EndpointOptions options)
    {
        IPAddress advertised = options.AdvertisedIPAddress
            ?? throw new SiloConfigurationException("The silo has no address to listen on; set Granary:AdvertisedAddress (cluster mode).");
        var silo = options.SiloListeningEndpoint ?? new IPEndPoint(advertised, options.SiloPort);
        var gateway = options.GatewayListeningEndpoint ?? (options.GatewayPort == 0 ? null : new IPEndPoint(advertised, options.GatewayPort));
        return new OrleansListeningEndpoints(silo, gateway);
    }
}
