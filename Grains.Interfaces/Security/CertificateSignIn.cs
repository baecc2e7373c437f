using System.Buffers.Binary;
using System.Text;

namespace Granary.Grains.Security;

/// <summary>What a client signs to sign in with its certificate (<see cref="IClientSessionGrain"/>).</summary>
public static class CertificateSignIn
{
    /// <summary>Names what the signature is for, so it cannot be replayed as anything else.</summary>
    public const string Purpose = "granary-certificate-sign-in/v1";

    /// <summary>
    /// The signed bytes: <see cref="Purpose"/>, a zero byte, the service id (UTF-8), a zero byte, the time (Unix
    /// seconds, 8 bytes big-endian) and the nonce.
    /// </summary>
    public static byte[] SignedData(string serviceId, ReadOnlySpan<byte> nonce, long unixTimeSeconds)
    {
        ArgumentNullException.ThrowIfNull(serviceId);
        int purpose = Encoding.UTF8.GetByteCount(Purpose);
        int service = Encoding.UTF8.GetByteCount(serviceId);
        var data = new byte[purpose + 1 + service + 1 + 8 + nonce.Length];
        int at = Encoding.UTF8.GetBytes(Purpose, data);
        data[at++] = 0;
        at += Encoding.UTF8.GetBytes(serviceId, data.AsSpan(at));
        data[at++] = 0;
        BinaryPrimitives.WriteInt64BigEndian(data.AsSpan(at), unixTimeSeconds);
        nonce.CopyTo(data.AsSpan(at + 8));
        return data;
    }
}
