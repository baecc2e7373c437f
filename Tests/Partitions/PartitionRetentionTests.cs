using Granary.Grains.Partitions;
using Granary.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using static Granary.Tests.Storage.LogTestKit;

namespace Granary.Tests.Partitions;

/// <summary>Retention and the overflow policy of a partition, on a real log and without a silo.</summary>
public sealed class PartitionRetentionTests
{
    private const long RetentionBytes = 10_000;
    private static readonly TopicConfig RejectPublish = new() { RetentionBytes = RetentionBytes, Overflow = OverflowPolicy.RejectPublish };
    private static readonly TopicConfig DropOldest = new() { RetentionBytes = RetentionBytes, Overflow = OverflowPolicy.DropOldest };

    [Fact]
    public async Task DropOldest_DeletesPastTheLimit_WhateverTheGroupsAcknowledged()
    {
        using var dir = new TempDirectory();
        await using var log = await FullLogAsync(dir);
        var retention = Retention();
        retention.ReportCommitted("late", 0);
        retention.AddDescribed([]);

        retention.RunScheduled(log, DropOldest);

        Assert.True(log.StartOffset > 0);
        Assert.True(log.SizeInBytes <= RetentionBytes);
        Assert.False(retention.HeldBack);
    }

    [Fact]
    public async Task RejectPublish_GroupsNotYetKnown_DeletesNothing()
    {
        using var dir = new TempDirectory();
        await using var log = await FullLogAsync(dir);
        var retention = Retention();
        retention.ReportCommitted("fast", log.EndOffset); // one report is not every group

        retention.RunScheduled(log, RejectPublish);

        Assert.Equal(0, log.StartOffset);
        Assert.Equal(0, retention.KeepFromOffset(log.StartOffset));
    }

    [Fact]
    public async Task RejectPublish_FullAndHeldBackByAGroup_RefusesWithQueueFull_ThenAcceptsOnceAcknowledged()
    {
        using var dir = new TempDirectory();
        await using var log = await FullLogAsync(dir);
        var retention = Retention();
        Assert.Equal(["late"], retention.FollowGroups(["late"]));
        retention.AddDescribed([("late", 0)]);

        var refused = Assert.Throws<GranaryException>(() => retention.EnsureRoom(log, RejectPublish, 300));

        Assert.Equal(GranaryErrorCode.QueueFull, refused.Code);
        Assert.True(retention.HeldBack);
        Assert.Equal(0, log.StartOffset);

        retention.ReportCommitted("late", log.EndOffset);
        retention.EnsureRoom(log, RejectPublish, 300);

        Assert.False(retention.HeldBack);
        Assert.True(log.StartOffset > 0);
    }

    [Fact]
    public async Task RejectPublish_KeepsFromTheLowestGroup()
    {
        using var dir = new TempDirectory();
        await using var log = await FullLogAsync(dir);
        var retention = Retention();
        retention.AddDescribed([("a", 40), ("b", 25)]);

        retention.RunScheduled(log, RejectPublish);

        Assert.Equal(25, retention.KeepFromOffset(log.StartOffset));
        Assert.True(log.StartOffset <= 25);
    }

    [Fact]
    public void FollowGroups_ForgetsDeletedGroups_AndAsksOnlyForNewOnes()
    {
        var retention = Retention();
        retention.AddDescribed([("a", 10), ("gone", 0)]);

        var unknown = retention.FollowGroups(["a", "new"]);

        Assert.Equal(["new"], unknown);
        retention.AddDescribed([("new", 30)]);
        Assert.Equal(10, retention.KeepFromOffset(logStartOffset: 0));
    }

    [Fact]
    public void AddDescribed_AReportThatArrivedMeanwhile_Wins()
    {
        var retention = Retention();
        retention.ReportCommitted("a", 50);

        retention.AddDescribed([("a", 10)]);

        Assert.Equal(50, retention.KeepFromOffset(logStartOffset: 0));
    }

    [Fact]
    public async Task RejectPublish_UnderTheLimit_AcceptsWithoutRetention()
    {
        using var dir = new TempDirectory();
        var options = Options(segmentBytes: 4096);
        options.RetentionBytes = RetentionBytes;
        await using var log = await PartitionLog.OpenAsync(dir.Path, options);
        await log.AppendAsync(Batch("small"));
        var retention = Retention();

        retention.EnsureRoom(log, RejectPublish, 300);

        Assert.False(retention.HeldBack);
    }

    private static PartitionRetention Retention() => new("t", 0, NullLogger.Instance);

    /// <summary>60 records of ~200 bytes in 4 KiB segments: well past the 10 KB retention size.</summary>
    private static async Task<PartitionLog> FullLogAsync(TempDirectory dir)
    {
        var options = Options(segmentBytes: 4096);
        options.RetentionBytes = RetentionBytes;
        var log = await PartitionLog.OpenAsync(dir.Path, options);
        for (int i = 0; i < 60; i++) await log.AppendAsync(Batch($"{i}:{new string('r', 200)}"));
        return log;
    }
}
