using Granary.Grains.Partitions;
using Granary.Grains.Placement;
using Granary.Grains.Security;
using Granary.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime.Hosting;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace Granary.Grains.Hosting;

/// <summary>Registers Granary in a silo.</summary>
public static class SiloBuilderExtensions
{
    /// <summary>The grain storage provider Granary's grains use.</summary>
    public const string StorageName = "granary";

    private const int MinPoolThreads = 32;

    /// <summary>
    /// Adds Granary's grains and services: partition logs under <c>Granary:DataDirectory</c> (settings from
    /// <c>Granary:Storage</c>), partition placement, and, unless <paramref name="embeddedStorage"/> is false, durable
    /// file-backed grain state and reminders under the data directory (embedded mode, no database).
    /// </summary>
    public static ISiloBuilder AddGranary(this ISiloBuilder builder, Action<GranaryOptions>? configure = null, bool embeddedStorage = true)
    {
        // Partition logs (group commit) and the file-backed state issue blocking fsync calls from pool threads. On a
        // small machine the pool starts with one thread per core and grows slowly, so a slow disk would stall every
        // grain; a higher floor keeps the silo responsive while fsyncs are in flight.
        ThreadPool.GetMinThreads(out int workers, out int io);
        if (workers < MinPoolThreads) ThreadPool.SetMinThreads(MinPoolThreads, Math.Max(io, MinPoolThreads));

        // The storage engine reports; the broker measures.
        FileSync.FlushTimed = Diagnostics.GranaryMetrics.RecordFsync;

        var granary = builder.Services.AddOptions<GranaryOptions>().BindConfiguration(GranaryOptions.SectionName).ValidateOnStart();
        if (configure is not null) granary.Configure(configure);
        builder.Services.TryAddSingleton<IValidateOptions<GranaryOptions>, GranaryOptionsValidator>();
        builder.Services.AddOptions<PartitionLogOptions>().BindConfiguration(PartitionLogOptions.SectionName)
            .Validate(o => { o.Validate(); return true; }).ValidateOnStart();
        builder.Services.AddOptions<ProducerStateOptions>().BindConfiguration(ProducerStateOptions.SectionName)
            .Validate(o => o.ProducerStateRetention > TimeSpan.Zero && o.SnapshotInterval > TimeSpan.Zero,
                "Granary:Producers:ProducerStateRetention and SnapshotInterval must be positive.")
            .ValidateOnStart();
        // Broker time: every rule reads the clock through this, so tests can put a fake clock in its place.
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<PartitionLogManager>();
        builder.Services.TryAddSingleton(services => new StateFiles.StateDamageLog(
            services.GetRequiredService<Microsoft.Extensions.Logging.ILogger<StateFiles.StateDamageLog>>(), services.GetService<TimeProvider>() ?? TimeProvider.System));
        builder.Services.TryAddSingleton<Replication.ClusterNodes>();
        // Idle partitions (and their topics) hold open segment files: their idle age is Granary's to set.
        builder.Services.AddOptions<GrainCollectionOptions>().Configure<IOptions<GranaryOptions>>((collection, granary) =>
        {
            foreach (var grain in (Type[])[typeof(PartitionGrain), typeof(Topics.TopicGrain), typeof(Replication.PartitionReplicaGrain)])
                collection.ClassSpecificCollectionAge[grain.FullName!] = granary.Value.IdlePartitionTimeout;
        });
        // Internal grains are closed to clients: silos stamp their calls, the gate refuses unstamped internal calls.
        builder.Services.TryAddSingleton(Security.InternalCallSecret.Create);
        builder.AddOutgoingGrainCallFilter<Security.InternalCallStamp>();
        builder.AddIncomingGrainCallFilter<Security.InternalCallGate>();
        // Keys, rules and the audit log (Granary:Security): a file under the data directory unless cluster mode put PostgreSQL.
        builder.Services.AddGranarySecurity();
        builder.AddPlacementDirector<PartitionPlacement, PartitionPlacementDirector>();
        builder.AddPlacementDirector<Replication.ReplicaPlacement, Replication.ReplicaPlacementDirector>();

        if (embeddedStorage)
        {
            builder.Services.AddGrainStorage(StorageName, (services, _) =>
                new FileGrainStorage(services.GetRequiredService<IOptions<GranaryOptions>>().Value.StateDirectory,
                    services.GetRequiredService<Serializer>(), services.GetRequiredService<IActivatorProvider>(),
                    services.GetRequiredService<StateFiles.StateDamageLog>()));
            builder.Services.AddSingleton<Cursors.ICursorStateStore>(services => new Cursors.FileCursorStateStore(Path.Combine(
                services.GetRequiredService<IOptions<GranaryOptions>>().Value.StateDirectory, Cursors.FileCursorStateStore.FolderName)));
            builder.AddReminders();
            builder.Services.AddSingleton<IReminderTable>(services =>
                new FileReminderTable(services.GetRequiredService<IOptions<GranaryOptions>>().Value.RemindersFile,
                    services.GetRequiredService<StateFiles.StateDamageLog>()));
            builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, StateFiles.StaleTempFiles>();
            builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, StateFiles.ReminderRecovery>();
        }
        return builder;
    }

    /// <summary>
    /// Cluster mode: membership, grain state and reminders in PostgreSQL through Orleans' ADO.NET providers (grain
    /// state in Orleans' binary format: the default JSON one drops <see cref="ReadOnlyMemory{T}"/> fields), and
    /// topics replicated to 3 silos unless <c>Granary:DefaultReplicationFactor</c> says otherwise. Call <see cref="AddGranary"/> with <c>embeddedStorage: false</c> too.
    /// The schema must exist (<see cref="PostgresSchema.EnsureCreatedAsync"/>).
    /// </summary>
    public static ISiloBuilder UseGranaryCluster(this ISiloBuilder builder, string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        builder.UseAdoNetClustering(o => { o.Invariant = PostgresInvariant; o.ConnectionString = connectionString; });
        builder.AddAdoNetGrainStorage(StorageName, o => { o.Invariant = PostgresInvariant; o.ConnectionString = connectionString; });
        builder.Services.AddKeyedSingleton<IGrainStorageSerializer>(StorageName, (services, _) =>
            new OrleansGrainStorageSerializer(services.GetRequiredService<Serializer>()));
        builder.UseAdoNetReminderService(o => { o.Invariant = PostgresInvariant; o.ConnectionString = connectionString; });
        builder.Services.AddSingleton(new ClusterMode());
        builder.Services.AddSingleton<Cursors.ICursorStateStore>(_ => new Cursors.PostgresCursorStateStore(connectionString));
        builder.Services.AddSingleton(new Security.ClusterSecretSeed(connectionString));
        builder.Services.UsePostgresSecurityStore(connectionString);
        return builder;
    }

    /// <summary>The ADO.NET invariant of Npgsql.</summary>
    public const string PostgresInvariant = "Npgsql";
}

/// <summary>Registered by <see cref="SiloBuilderExtensions.UseGranaryCluster"/>: the silo runs in cluster mode.</summary>
internal sealed class ClusterMode;
