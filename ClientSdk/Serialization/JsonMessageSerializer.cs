using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Granary.Client.Serialization;

/// <summary>
/// The default <see cref="IMessageSerializer{T}"/>: UTF-8 JSON through System.Text.Json, content type
/// <c>application/json</c>. For trimmed and native AOT applications, pass the source-generated
/// <see cref="JsonTypeInfo{T}"/> of a <see cref="JsonSerializerContext"/> (<c>new JsonMessageSerializer&lt;Order&gt;(AppJson.Default.Order)</c>):
/// no reflection is used then.
/// </summary>
/// <typeparam name="T">The message type.</typeparam>
public sealed class JsonMessageSerializer<T> : IMessageSerializer<T>
{
    /// <summary>The content type it records: <c>application/json</c>.</summary>
    public const string JsonContentType = "application/json";

    private readonly JsonTypeInfo<T> _typeInfo;

    /// <summary>
    /// A serializer with <paramref name="options"/>, or with <see cref="JsonSerializerOptions.Web"/> (camelCase names,
    /// case-insensitive reading, numbers from strings) when null. Options without a source-generated resolver use
    /// reflection: use the <see cref="JsonTypeInfo{T}"/> constructor in trimmed or AOT applications.
    /// </summary>
    public JsonMessageSerializer(JsonSerializerOptions? options = null)
    {
        options ??= JsonSerializerOptions.Web;
        // Makes the options read-only, as their first use by JsonSerializer would, and resolves the contract once.
        _typeInfo = (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));
    }

    /// <summary>A serializer using a source-generated contract, such as <c>AppJsonContext.Default.Order</c>.</summary>
    public JsonMessageSerializer(JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        _typeInfo = typeInfo;
    }

    /// <summary>A serializer taking the contract of <typeparamref name="T"/> from a source-generated <paramref name="context"/>.</summary>
    /// <exception cref="ArgumentException">The context has no contract for <typeparamref name="T"/>.</exception>
    public JsonMessageSerializer(JsonSerializerContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _typeInfo = context.GetTypeInfo(typeof(T)) as JsonTypeInfo<T>
            ?? throw new ArgumentException($"The JSON context {context.GetType().Name} has no contract for {typeof(T).Name}: add [JsonSerializable(typeof({typeof(T).Name}))] to it.", nameof(context));
    }

    /// <inheritdoc />
    public string ContentType => JsonContentType;

    /// <inheritdoc />
    public byte[] Serialize(T value) => JsonSerializer.SerializeToUtf8Bytes(value, _typeInfo);

    /// <inheritdoc />
    /// <exception cref="JsonException">The payload is not JSON of <typeparamref name="T"/>, or is JSON <c>null</c> (not a message).</exception>
    public T Deserialize(ReadOnlySpan<byte> payload)
    {
        var value = JsonSerializer.Deserialize(payload, _typeInfo);
        // A JSON null is not a message (a handler would get a null it never expects); an empty payload throws already.
        if (value is null && default(T) is null) throw new JsonException($"The payload is JSON null, not a {typeof(T).Name}.");
        return value!;
    }
}
