using System.Security.Cryptography;
using System.Text;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace Granary.Grains.Hosting;

/// <summary>
/// Grain state in files, for embedded mode: one file per grain and state name, written with Orleans' binary
/// serializer (the JSON default loses <see cref="ReadOnlyMemory{T}"/>), replaced atomically and fsynced, with an
/// ETag check. Reads go to disk every time, so silos sharing the directory see one another's writes.
/// </summary>
internal sealed class FileGrainStorage(string root, Serializer serializer, IActivatorProvider activators) : IGrainStorage
{
    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var envelope = await ReadEnvelopeAsync<T>(PathFor(stateName, grainId)).ConfigureAwait(false);
        grainState.State = envelope is { State: { } stored } ? stored : activators.GetActivator<T>().Create();
        grainState.ETag = envelope?.ETag;
        grainState.RecordExists = envelope is not null;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        string path = PathFor(stateName, grainId);
        var current = await ReadEnvelopeAsync<T>(path).ConfigureAwait(false);
        if (current?.ETag != grainState.ETag)
            throw new InconsistentStateException($"ETag mismatch for {grainId} ({stateName})", current?.ETag, grainState.ETag);
        string etag = ((current is null ? 0 : long.Parse(current.ETag!, System.Globalization.CultureInfo.InvariantCulture)) + 1)
            .ToString(System.Globalization.CultureInfo.InvariantCulture);
        await DurableFile.WriteAsync(path, serializer.SerializeToArray(new StateEnvelope<T> { ETag = etag, State = grainState.State })).ConfigureAwait(false);
        grainState.ETag = etag;
        grainState.RecordExists = true;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        DurableFile.Delete(PathFor(stateName, grainId));
        grainState.State = activators.GetActivator<T>().Create();
        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }

    private async Task<StateEnvelope<T>?> ReadEnvelopeAsync<T>(string path)
    {
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(path).ConfigureAwait(false);
        }
        catch (FileNotFoundException) { return null; }
        catch (DirectoryNotFoundException) { return null; }
        return serializer.Deserialize<StateEnvelope<T>>(bytes);
    }

    /// <summary>A readable prefix for operators plus a hash, so any grain id maps to a safe, unique file name.</summary>
    private string PathFor(string stateName, GrainId grainId)
    {
        string id = $"{stateName}|{grainId}";
        string hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(id)))[..32];
        string type = new string(grainId.Type.ToString()!.Where(char.IsLetterOrDigit).ToArray());
        return Path.Combine(root, type, hash + ".state");
    }
}

/// <summary>What <see cref="FileGrainStorage"/> stores: the state and its ETag.</summary>
[GenerateSerializer, Alias("granary.StateEnvelope`1")]
internal sealed class StateEnvelope<T>
{
    [Id(0)] public string? ETag { get; set; }
    [Id(1)] public T? State { get; set; }
}
