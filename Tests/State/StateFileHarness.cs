using Granary.Grains.Hosting;
using Granary.Grains.Hosting.StateFiles;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;

namespace Granary.Tests.State;

/// <summary>A <see cref="FileGrainStorage"/> and a <see cref="FileReminderTable"/> on a temp directory, outside any silo.</summary>
internal sealed class StateFileHarness : IDisposable
{
    private static readonly ServiceProvider Services = new ServiceCollection()
        .AddSerializer(s => s.AddAssembly(typeof(FileGrainStorage).Assembly)).BuildServiceProvider();

    private readonly TempDirectory _data = new();

    public StateFileHarness()
    {
        Damage = new StateDamageLog(NullLogger<StateDamageLog>.Instance, TimeProvider.System);
        Storage = new FileGrainStorage(StateDirectory, Serializer, Services.GetRequiredService<IActivatorProvider>(), Damage);
    }

    public static Serializer Serializer => Services.GetRequiredService<Serializer>();

    public string DataDirectory => _data.Path;

    public string StateDirectory => Path.Combine(_data.Path, "state");

    public string RemindersFile => Path.Combine(_data.Path, "reminders.json");

    public StateDamageLog Damage { get; }

    public FileGrainStorage Storage { get; }

    public static GrainId Cursor(string topic = "orders", string group = "billing", int partition = 0) =>
        GrainId.Create("granary.cursor", GrainKeys.Cursor(topic, group, partition));

    public static GrainId Topic(string topic) => GrainId.Create("granary.topic", topic);

    public static GrainId Group(string topic, string group) => GrainId.Create("granary.group", GrainKeys.Group(topic, group));

    public static GrainId Registry => GrainId.Create("granary.topics", ITopicRegistryGrain.Key);

    /// <summary>Writes <paramref name="state"/> as the grain's next version (ETag checked, as the grain would).</summary>
    public async Task<StoredState<T>> WriteAsync<T>(string stateName, GrainId grain, T state)
    {
        var current = await ReadAsync<T>(stateName, grain);
        current.State = state;
        await Storage.WriteStateAsync(stateName, grain, current);
        return current;
    }

    public async Task<StoredState<T>> ReadAsync<T>(string stateName, GrainId grain)
    {
        var read = new StoredState<T>();
        await Storage.ReadStateAsync(stateName, grain, read);
        return read;
    }

    public FileReminderTable Reminders() => new(RemindersFile, Damage);

    /// <summary>Where the silo with data directory <paramref name="dataDirectory"/> keeps the grain's state file.</summary>
    public static string StatePathIn(string dataDirectory, string stateName, GrainId grain) =>
        new FileGrainStorage(Path.Combine(dataDirectory, "state"), Serializer, Services.GetRequiredService<IActivatorProvider>(),
            new StateDamageLog(NullLogger<StateDamageLog>.Instance, TimeProvider.System)).PathFor(stateName, grain);

    public void Dispose() => _data.Dispose();
}

/// <summary>A grain's state as the storage sees it (Orleans' own GrainState has a nullable State).</summary>
internal sealed class StoredState<T> : IGrainState<T>
{
    [System.Diagnostics.CodeAnalysis.AllowNull] public T State { get; set; } = default!;

    public string? ETag { get; set; }

    public bool RecordExists { get; set; }
}
