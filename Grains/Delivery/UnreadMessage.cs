namespace Granary.Grains.Delivery;

/// <summary>
/// A message whose lease ended without an ack (nacked, expired, taken back, its member left, the mode changed):
/// in-flight messages keep no record bytes, so it waits here until the grain reads it again from the partition
/// (<see cref="DeliveryState.RefillFrom"/>, <see cref="DeliveryState.Refill"/>). What the ordering rules need
/// meanwhile is kept: its key (KeyShared holds its key's later messages back) and, Ordered, its offset.
/// </summary>
/// <param name="HasKey">The message has a key.</param>
/// <param name="KeyHash">Its key hash.</param>
/// <param name="Rejected">Why it was rejected (<see cref="RejectReason.None"/>: it was not): once read, it goes to the dead-letter topic.</param>
internal readonly record struct UnreadMessage(bool HasKey, ulong KeyHash, RejectReason Rejected);
