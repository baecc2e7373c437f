namespace Granary.Tests.Fixtures;

/// <summary>A leased message as a test sees it: a pull's answer decoded by the SDK's reader.</summary>
public sealed record Delivery(int Partition, PulledMessage Message, int Attempt, long LeaseId)
{
    /// <summary>This delivery as acks and nacks name it.</summary>
    public LeaseRef Ref => new(Message.Offset, LeaseId);
}
