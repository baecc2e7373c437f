using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Granary.Grains.Hosting.StateFiles;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace Granary.Grains.Hosting;

/// <summary>
/// Grain state in files, for embedded mode: one file per grain and state name, written with Orleans' binary
/// serializer (the JSON default loses <see cref="ReadOnlyMemory{T}"/>), replaced atomically and fsynced, with an
/// ETag check. Reads go to disk every time, so silos sharing the directory see one another's writes.
/// </summary>
/// <remarks>
/// Each file is framed with a version and a CRC32C (<see cref="StateFileFormat"/>) and names the grain it belongs to, so
/// damage and a file copied over another grain's are both detected; the replaced copy is kept as <c>.prev</c>. A damaged
/// file falls back to that copy; with none good, a grain whose state is <see cref="IRecoverableState"/> gets a fresh state
/// marked damaged, any other grain fails with <c>CorruptData</c> (never a silently empty state over its data). Files of
/// the earlier unframed format are still read, and framed on their next write.
/// </remarks>
internal sealed class FileGrainStorage(string root, Serializer serializer, IActivatorProvider activators, StateDamageLog damage) : IGrainStorage
{
    /// <summary>The file extension of grain state files.</summary>
    public const string Extension = ".state";

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        string path = PathFor(stateName, grainId);
        var read = await ReadEnvelopeAsync<T>(stateName, grainId, path).ConfigureAwait(false);
        if (read.Source == StateFileSource.Previous && read.Problem is not null && typeof(IExactState).IsAssignableFrom(typeof(T)))
        {
            damage.Report(stateName, path, read.Problem, StateDamageAction.Unrecoverable,
                $"{grainId} answers CorruptData: its previous copy ({StateFile.PreviousOf(path)}) may predate its last change, so it is not used without an operator");
            throw new GranaryException(GranaryErrorCode.CorruptData,
                $"The stored {stateName} state of {grainId} is damaged ({read.Problem}); its previous copy is kept but not used automatically. See GET /api/v1/damage.");
        }
        if (read.Source == StateFileSource.Damaged)
        {
            var fresh = activators.GetActivator<T>().Create();
            if (fresh is not IRecoverableState recoverable)
            {
                damage.Report(stateName, path, read.Problem!, StateDamageAction.Unrecoverable,
                    $"{grainId} answers CorruptData until the file is repaired or removed");
                throw new GranaryException(GranaryErrorCode.CorruptData,
                    $"The stored {stateName} state of {grainId} is damaged and has no good previous copy ({read.Problem}). See GET /api/v1/damage.");
            }
            recoverable.Damage = new StateFileDamage(path, read.Problem!);
            grainState.State = fresh;
            grainState.ETag = null;
            grainState.RecordExists = false;
            return;
        }
        if (read.Source == StateFileSource.Previous && read.Problem is not null)
            damage.Report(stateName, path, read.Problem, StateDamageAction.RestoredPrevious, $"{grainId} continues from the previous copy (ETag {read.Value!.ETag})");
        var envelope = read.Value;
        grainState.State = envelope is { State: { } stored } ? stored : activators.GetActivator<T>().Create();
        grainState.ETag = envelope?.ETag;
        grainState.RecordExists = envelope is not null;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        string path = PathFor(stateName, grainId);
        var current = await ReadEnvelopeAsync<T>(stateName, grainId, path).ConfigureAwait(false);
        if (current.Value?.ETag != grainState.ETag)
            throw new InconsistentStateException($"ETag mismatch for {grainId} ({stateName})", current.Value?.ETag, grainState.ETag);
        string etag = ((current.Value is null ? 0 : long.Parse(current.Value.ETag!, System.Globalization.CultureInfo.InvariantCulture)) + 1)
            .ToString(System.Globalization.CultureInfo.InvariantCulture);
        byte[] envelope = serializer.SerializeToArray(new StateEnvelope<T> { ETag = etag, State = grainState.State });
        await StateFile.WriteAsync(path, Body(stateName, grainId, envelope), currentIsGood: current.Source == StateFileSource.Current).ConfigureAwait(false);
        grainState.ETag = etag;
        grainState.RecordExists = true;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        StateFile.Delete(PathFor(stateName, grainId));
        grainState.State = activators.GetActivator<T>().Create();
        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }

    /// <summary>
    /// The grains of <paramref name="type"/> with a readable <paramref name="stateName"/> file (current or previous copy)
    /// of the framed format: for rebuilding an index (the topic registry) from the states it indexes. Files of the
    /// earlier format do not name their grain, and damaged ones cannot be trusted to: they are counted in
    /// <paramref name="unattributed"/>.
    /// </summary>
    public IReadOnlyCollection<GrainId> ListStoredGrains(string stateName, GrainType type, out int unattributed)
    {
        var found = new HashSet<GrainId>();
        unattributed = 0;
        string directory = Path.Combine(root, TypeDirectory(type));
        if (!Directory.Exists(directory)) return found;
        string prefix = stateName + "|";
        foreach (string file in Directory.EnumerateFiles(directory, "*" + Extension + "*"))
        {
            if (!file.EndsWith(Extension, StringComparison.Ordinal) && !file.EndsWith(Extension + StateFile.PreviousSuffix, StringComparison.Ordinal)) continue;
            byte[] bytes;
            try
            {
                bytes = File.ReadAllBytes(file);
            }
            catch (IOException) { continue; } // deleted meanwhile
            if (!StateFileFormat.LooksFramed(bytes) || !StateFileFormat.TryDecode(bytes, out var body, out _) || !TrySplitBody(body, out string id, out _))
            {
                unattributed++;
                continue;
            }
            if (id.StartsWith(prefix, StringComparison.Ordinal) && GrainId.TryParse(id[prefix.Length..], out var grainId) && grainId.Type == type)
                found.Add(grainId);
        }
        return found;
    }

    private Task<StateFileRead<StateEnvelope<T>>> ReadEnvelopeAsync<T>(string stateName, GrainId grainId, string path)
    {
        string expected = Identity(stateName, grainId);
        return StateFile.ReadAsync(path, (body, legacy) =>
        {
            if (legacy) return serializer.Deserialize<StateEnvelope<T>>(body)!;
            if (!TrySplitBody(body, out string id, out var envelope)) throw new InvalidDataException("the grain identity is unreadable");
            // A file copied or moved over another grain's passes its checksum: the identity inside tells them apart.
            if (id != expected) throw new InvalidDataException($"it belongs to '{id}', not '{expected}'");
            return serializer.Deserialize<StateEnvelope<T>>(envelope)!;
        });
    }

    /// <summary>The framed body: the length-prefixed identity (<c>{stateName}|{grainId}</c>, UTF-8) and the serialized envelope.</summary>
    private static byte[] Body(string stateName, GrainId grainId, byte[] envelope)
    {
        byte[] id = Encoding.UTF8.GetBytes(Identity(stateName, grainId));
        var body = new byte[4 + id.Length + envelope.Length];
        BinaryPrimitives.WriteInt32LittleEndian(body, id.Length);
        id.CopyTo(body, 4);
        envelope.CopyTo(body, 4 + id.Length);
        return body;
    }

    private static bool TrySplitBody(ReadOnlyMemory<byte> body, out string id, out ReadOnlyMemory<byte> envelope)
    {
        id = "";
        envelope = default;
        if (body.Length < 4) return false;
        int length = BinaryPrimitives.ReadInt32LittleEndian(body.Span);
        if (length < 0 || length > body.Length - 4) return false;
        id = Encoding.UTF8.GetString(body.Span.Slice(4, length));
        envelope = body[(4 + length)..];
        return true;
    }

    private static string Identity(string stateName, GrainId grainId) => $"{stateName}|{grainId}";

    /// <summary>A readable prefix for operators plus a hash, so any grain id maps to a safe, unique file name.</summary>
    internal string PathFor(string stateName, GrainId grainId)
    {
        string hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(Identity(stateName, grainId))))[..32];
        return Path.Combine(root, TypeDirectory(grainId.Type), hash + Extension);
    }

    private static string TypeDirectory(GrainType type) => new(type.ToString()!.Where(char.IsLetterOrDigit).ToArray());
}

/// <summary>What <see cref="FileGrainStorage"/> stores: the state and its ETag.</summary>
[GenerateSerializer, Alias("granary.StateEnvelope`1")]
internal sealed class StateEnvelope<T>
{
    [Id(0)] public string? ETag { get; set; }
    [Id(1)] public T? State { get; set; }
}
