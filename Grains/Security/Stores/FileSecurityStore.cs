using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Granary.Grains.Hosting.StateFiles;

namespace Granary.Grains.Security.Stores;

/// <summary>
/// Embedded mode's <see cref="ISecurityStore"/>: keys and rules in one framed state file
/// (<c>{directory}/security.state</c>, with its previous copy), the audit log as JSON lines in
/// <c>{directory}/audit.jsonl</c>. One silo owns the directory, so the version lives in the file and in memory.
/// A damaged file with no good copy is not taken for an empty one: loading fails, and the silo keeps refusing everyone
/// but superusers until an operator repairs it.
/// </summary>
public sealed class FileSecurityStore : ISecurityStore, IDisposable
{
    /// <summary>The keys-and-rules file's name.</summary>
    public const string StateFileName = "security.state";

    /// <summary>The audit log's file name.</summary>
    public const string AuditFileName = "audit.jsonl";

    private static readonly JsonSerializerOptions Json = new() { Converters = { new JsonStringEnumConverter() } };

    private readonly string _statePath;
    private readonly string _auditPath;
    private readonly StateDamageLog? _damage;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private Contents? _contents;
    private bool _fileIsGood = true;
    private string? _unrecoverable;

    /// <summary>A store in <paramref name="directory"/> (created when missing, owner-only).</summary>
    public FileSecurityStore(string directory, StateDamageLog? damage = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!OperatingSystem.IsWindows())
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        else Directory.CreateDirectory(directory);
        _statePath = Path.Combine(directory, StateFileName);
        _auditPath = Path.Combine(directory, AuditFileName);
        _damage = damage;
    }

    /// <inheritdoc />
    public async Task<SecuritySnapshot> LoadAsync(CancellationToken cancellationToken = default)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var contents = await ReadAsync().ConfigureAwait(false);
            return new SecuritySnapshot([.. contents.Keys], [.. contents.Rules], contents.Version);
        }
        finally { _lock.Release(); }
    }

    /// <inheritdoc />
    public async Task<long> GetVersionAsync(CancellationToken cancellationToken = default)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try { return (await ReadAsync().ConfigureAwait(false)).Version; }
        finally { _lock.Release(); }
    }

    /// <inheritdoc />
    public Task AddKeyAsync(ApiKeyRecord key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        return ChangeAsync(c =>
        {
            if (c.Keys.Any(k => k.Id == key.Id)) throw new InvalidOperationException($"An API key with id {key.Id} exists already.");
            c.Keys.Add(key);
            return true;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> RevokeKeyAsync(string id, DateTimeOffset at, CancellationToken cancellationToken = default) =>
        ChangeAsync(c =>
        {
            int index = c.Keys.FindIndex(k => k.Id == id && k.Revoked is null);
            if (index < 0) return false;
            c.Keys[index] = c.Keys[index] with { Revoked = at };
            return true;
        }, cancellationToken);

    /// <inheritdoc />
    public Task AddRuleAsync(AclRule rule, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rule);
        return ChangeAsync(c =>
        {
            c.Rules.Add(rule);
            return true;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> RemoveRuleAsync(Guid id, CancellationToken cancellationToken = default) =>
        ChangeAsync(c => c.Rules.RemoveAll(r => r.Id == id) > 0, cancellationToken);

    /// <inheritdoc />
    public async Task AppendAuditAsync(AuditEvent audit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(audit);
        byte[] line = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(audit, Json) + "\n");
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var file = new FileStream(_auditPath, FileMode.Append, FileAccess.Write, FileShare.Read, 4096, FileOptions.Asynchronous);
            await file.WriteAsync(line, cancellationToken).ConfigureAwait(false);
            await file.FlushAsync(cancellationToken).ConfigureAwait(false);
            file.Flush(flushToDisk: true);
        }
        finally { _lock.Release(); }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<AuditEvent>> ReadAuditAsync(DateTimeOffset? since, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        string[] lines;
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!File.Exists(_auditPath)) return [];
            lines = await File.ReadAllLinesAsync(_auditPath, cancellationToken).ConfigureAwait(false);
        }
        finally { _lock.Release(); }
        var events = new List<AuditEvent>(Math.Min(limit, lines.Length));
        for (int i = lines.Length - 1; i >= 0 && events.Count < limit; i--)
        {
            AuditEvent? audit;
            try { audit = JsonSerializer.Deserialize<AuditEvent>(lines[i], Json); }
            // A line torn by a crash mid-append is the only kind expected; it is skipped, the rest still read.
            catch (JsonException) { continue; }
            if (audit is null) continue;
            if (since is { } from && audit.Time < from) break;
            events.Add(audit);
        }
        return events;
    }

    /// <inheritdoc />
    public void Dispose() => _lock.Dispose();

    private async Task<T> ChangeAsync<T>(Func<Contents, T> change, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var current = await ReadAsync().ConfigureAwait(false);
            var next = new Contents { Version = current.Version, Keys = [.. current.Keys], Rules = [.. current.Rules] };
            var result = change(next);
            if (result is false) return result;
            next.Version++;
            await StateFile.WriteAsync(_statePath, JsonSerializer.SerializeToUtf8Bytes(next, Json), _fileIsGood).ConfigureAwait(false);
            _fileIsGood = true;
            _contents = next;
            return result;
        }
        finally { _lock.Release(); }
    }

    private async Task<Contents> ReadAsync()
    {
        if (_contents is not null) return _contents;
        if (_unrecoverable is not null) throw new InvalidDataException(_unrecoverable);
        var read = await StateFile.ReadAsync(_statePath, (body, _) => JsonSerializer.Deserialize<Contents>(body.Span, Json)).ConfigureAwait(false);
        switch (read.Source)
        {
            case StateFileSource.None:
                _contents = new Contents();
                break;
            case StateFileSource.Current:
                _contents = read.Value!;
                break;
            case StateFileSource.Previous:
                _fileIsGood = false;
                _damage?.Report("security", _statePath, read.Problem!, StateDamageAction.RestoredPrevious, "keys and rules restored from the previous copy; the last change may be lost");
                _contents = read.Value!;
                break;
            default:
                _damage?.Report("security", _statePath, read.Problem!, StateDamageAction.Unrecoverable,
                    "no API key or rule applies (only the bootstrap key and superusers) until the file is repaired or deleted");
                _unrecoverable = $"The security state {_statePath} is damaged: {read.Problem}. Repair or delete it and restart the silo.";
                throw new InvalidDataException(_unrecoverable);
        }
        return _contents;
    }

    private sealed class Contents
    {
        public long Version { get; set; }

        public List<ApiKeyRecord> Keys { get; set; } = [];

        public List<AclRule> Rules { get; set; } = [];
    }
}
