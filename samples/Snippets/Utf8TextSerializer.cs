using System.Text;
using Granary.Client.Serialization;

namespace Granary.Samples.Snippets;

// README: Typed messages.
// <custom-serializer>
// Plain UTF-8 text as a typed message (string). Serializers are shared between threads: keep them stateless.
public sealed class Utf8TextSerializer : IMessageSerializer<string>
{
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public string ContentType => "text/plain; charset=utf-8";   // recorded in the content-type header

    public byte[] Serialize(string value) => Strict.GetBytes(value);

    public string Deserialize(ReadOnlySpan<byte> payload) => Strict.GetString(payload);   // throws when the payload is not UTF-8: dead-lettered
}
// </custom-serializer>
