using Granary.Grains.Partitions;

namespace Granary.Tests.Broker;

/// <summary>
/// Names made of dots are refused, and names map to partition directories safely by construction
/// (<see cref="PartitionPaths"/>): never outside the logs directory, never two names in one directory, also where the
/// file system ignores case.
/// </summary>
public sealed class TopicNamingTests
{
    [Theory]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("...")]
    public void Validate_OnlyDots_IsInvalidName(string name)
    {
        Assert.False(Names.IsValid(name));
        Assert.Equal(GranaryErrorCode.InvalidName, Assert.Throws<GranaryException>(() => Names.Validate(name, "topic")).Code);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("a.")]
    [InlineData(".a")]
    [InlineData("..a..")]
    [InlineData("orders.v2")]
    public void Validate_DotsWithOtherCharacters_IsValid(string name) => Assert.True(Names.IsValid(name));

    [Fact]
    public void Validate_HugeName_EchoesOnlyItsStart()
    {
        var error = Assert.Throws<GranaryException>(() => Names.Validate(new string('x', 1_000_000), "topic"));
        Assert.True(error.Message.Length < 1_000, error.Message[..200]);
    }

    /// <summary>
    /// The repro: topic <c>0</c> with 6 messages, then <c>.</c> and <c>..</c>. Before the fix <c>.</c> was
    /// created, shared topic <c>0</c>'s parent directory, and deleting it deleted <c>0</c>'s log.
    /// </summary>
    [Fact]
    public async Task DotTopics_AreRefused_AndTopicZeroKeepsItsSixMessagesOverARestart()
    {
        using var data = new TempDirectory();
        await using (var silo = await SiloOnDirectory.StartAsync(data.Path))
        {
            await silo.Client.Admin.CreateTopicAsync("0");
            await using (var producer = silo.Client.CreateProducer("0"))
            {
                for (int i = 0; i < 6; i++) await producer.SendAsync(new OutgoingMessage(Encoding.UTF8.GetBytes($"m{i}")));
            }
            foreach (string name in (string[])[".", ".."])
            {
                // The SDK refuses, and so does the broker when called directly (another client could skip the SDK's check).
                Assert.Equal(GranaryErrorCode.InvalidName, (await Assert.ThrowsAsync<GranaryException>(() => silo.Client.Admin.CreateTopicAsync(name))).Code);
                var direct = await Assert.ThrowsAsync<GranaryException>(() => silo.Cluster.Client.GetGrain<ITopicGrain>(name).CreateAsync(new TopicConfig()));
                Assert.Equal(GranaryErrorCode.InvalidName, direct.Code);
                Assert.Equal(GranaryErrorCode.InvalidName, (await Assert.ThrowsAsync<GranaryException>(() => silo.Client.Admin.DeleteTopicAsync(name))).Code);
                // Nothing reaches a log under such a name either.
                var append = await Assert.ThrowsAsync<GranaryException>(() =>
                    silo.Cluster.Client.GetGrain<IPartitionGrain>($"{name}/0").AppendAsync(new MessageBatch([new Message(null, "x"u8.ToArray(), null)])));
                Assert.Equal(GranaryErrorCode.TopicNotFound, append.Code);
            }
            Assert.Equal(["0"], await silo.Client.Admin.ListTopicsAsync());
        }
        // Only topic 0 has a directory under logs/, and nothing was written beside logs/.
        Assert.Equal(["0@0"], Directory.GetDirectories(Path.Combine(data.Path, "logs")).Select(Path.GetFileName));
        Assert.DoesNotContain("0", Directory.GetDirectories(data.Path).Select(Path.GetFileName));

        await using var restarted = await SiloOnDirectory.StartAsync(data.Path);
        Assert.Equal(6, (await restarted.Client.Admin.DescribeTopicAsync("0")).PartitionDetails.Single().EndOffset);
        await using var consumer = restarted.Client.CreateConsumer("0", "g", new ConsumerOptions { AckTimeout = ClientTestExtensions.NoExpiry });
        var received = await Eventually.CollectAsync(consumer.ReadAllAsync(), r => r.Count >= 6, onEach: m => m.AckAsync());
        Assert.Equal(["m0", "m1", "m2", "m3", "m4", "m5"], received.Select(m => Encoding.UTF8.GetString(m.Payload.Span)));
    }

    [Theory]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("../x")]
    [InlineData("a/b")]
    [InlineData("a\\b")]
    [InlineData("/etc")]
    [InlineData("")]
    [InlineData("a\0b")]
    [InlineData("C:x")]
    public void PartitionDirectory_NameThatIsNoSingleSafeSegment_IsRefused(string name)
    {
        using var logs = new TempDirectory();
        var paths = new PartitionPaths(logs.Path);
        Assert.Equal(GranaryErrorCode.InvalidName, Assert.Throws<GranaryException>(() => paths.PartitionDirectory(name, PartitionPaths.NewIncarnation(), 0)).Code);
        Assert.Equal(GranaryErrorCode.InvalidName, Assert.Throws<GranaryException>(() => paths.PartitionDirectory(name, null, 0)).Code);
    }

    [Theory]
    [InlineData("..")]
    [InlineData("../../../../etc")]
    [InlineData("")]
    [InlineData("0123456789ABCDEF0123456789ABCDEF")] // uppercase: not an id this silo made
    [InlineData("0123456789abcdef0123456789abcde/")]
    public void PartitionDirectory_IncarnationThatIsNoId_IsRefused(string incarnation)
    {
        using var logs = new TempDirectory();
        var paths = new PartitionPaths(logs.Path);
        Assert.Throws<GranaryException>(() => paths.PartitionDirectory("orders", incarnation, 0));
    }

    [Fact]
    public void PartitionDirectory_NegativePartition_IsRefused()
    {
        using var logs = new TempDirectory();
        Assert.Equal(GranaryErrorCode.InvalidArgument, Assert.Throws<GranaryException>(() => new PartitionPaths(logs.Path).PartitionDirectory("orders", null, -1)).Code);
    }

    [Fact]
    public void PartitionDirectory_NamesDifferingInCase_NeverShareADirectory_EvenIgnoringCase()
    {
        using var logs = new TempDirectory();
        var paths = new PartitionPaths(logs.Path);
        string incarnation = PartitionPaths.NewIncarnation();
        string[] names = ["Orders", "orders", "ORDERS", "oRdErS", "a", "A", "a.", "A.", "a-", "a_", "aa", "aA", "Aa", "AA"];
        var directories = names.Select(n => paths.PartitionDirectory(n, incarnation, 0)).ToList();
        Assert.Equal(names.Length, directories.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        // Current-layout directories never meet a legacy one (a bare name), whatever the case.
        var legacy = names.Select(n => paths.TopicDirectory(n, null));
        var current = names.Select(n => Path.GetDirectoryName(paths.TopicDirectory(n, incarnation))!);
        Assert.Empty(legacy.Intersect(current, StringComparer.OrdinalIgnoreCase));
        Assert.Equal("orders@1", PartitionPaths.EncodeName("Orders"));
        Assert.Equal("orders@0", PartitionPaths.EncodeName("orders"));
        Assert.Equal("orders@f3", PartitionPaths.EncodeName("ORDERS"));
    }

    [Fact]
    public void EncodeName_ManyRandomNames_IsInjectiveIgnoringCase_AndFitsAFileName()
    {
        var random = new Random(16);
        const string alphabet = "aAbB.-_0Zz";
        var names = new HashSet<string>(StringComparer.Ordinal);
        while (names.Count < 5_000)
        {
            var chars = new char[random.Next(1, 8)];
            for (int i = 0; i < chars.Length; i++) chars[i] = alphabet[random.Next(alphabet.Length)];
            string name = new(chars);
            if (Names.IsValid(name)) names.Add(name);
        }
        var encoded = names.Select(PartitionPaths.EncodeName).ToList();
        Assert.Equal(names.Count, encoded.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.All(encoded, e => Assert.Equal(e, e.ToLowerInvariant()));
        Assert.True(PartitionPaths.EncodeName(new string('Q', Names.MaxLength)).Length <= 255);
    }

    [Fact]
    public void PartitionDirectory_StaysInsideTheLogsDirectory_AndLegacyTopicsKeepTheirLayout()
    {
        using var logs = new TempDirectory();
        var paths = new PartitionPaths(logs.Path);
        string incarnation = PartitionPaths.NewIncarnation();
        Assert.Equal(Path.Combine(logs.Path, "orders@1", incarnation, "3"), paths.PartitionDirectory("Orders", incarnation, 3));
        // A topic created before incarnations: the layout it was written with, {logs}/{name}/{partition}.
        Assert.Equal(Path.Combine(logs.Path, "Orders", "3"), paths.PartitionDirectory("Orders", null, 3));
        foreach (string name in (string[])["a", "..a", "a..", "-", "_", "a.b"])
        {
            Assert.StartsWith(logs.Path + Path.DirectorySeparatorChar, paths.PartitionDirectory(name, incarnation, 0), StringComparison.Ordinal);
            Assert.StartsWith(logs.Path + Path.DirectorySeparatorChar, paths.PartitionDirectory(name, null, 0), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void RemoveEmptyParents_RemovesOnlyEmptyDirectoriesOfTheTopic()
    {
        using var logs = new TempDirectory();
        var paths = new PartitionPaths(logs.Path);
        string first = PartitionPaths.NewIncarnation(), second = PartitionPaths.NewIncarnation();
        Directory.CreateDirectory(paths.PartitionDirectory("orders", first, 0));
        Directory.CreateDirectory(paths.PartitionDirectory("orders", second, 0));
        Directory.Delete(paths.PartitionDirectory("orders", first, 0));
        paths.RemoveEmptyParents("orders", first);
        Assert.False(Directory.Exists(paths.TopicDirectory("orders", first)));
        Assert.True(Directory.Exists(paths.PartitionDirectory("orders", second, 0)));
        Directory.Delete(paths.PartitionDirectory("orders", second, 0));
        paths.RemoveEmptyParents("orders", second);
        Assert.False(Directory.Exists(Path.Combine(logs.Path, "orders@0")));
        Assert.True(Directory.Exists(logs.Path));
    }
}
