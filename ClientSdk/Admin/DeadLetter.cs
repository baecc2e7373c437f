namespace Granary.Client;

/// <summary>A message a consumer group sent to its dead-letter topic, with why and where it came from.</summary>
/// <param name="Partition">Partition of the dead-letter topic that holds it.</param>
/// <param name="Offset">Its offset there: the range a redrive takes is in these offsets.</param>
/// <param name="Reason">Why: <c>max-deliveries</c>, <c>expired</c> or <c>rejected</c> (see <see cref="GranaryHeaders.Reasons"/>).</param>
/// <param name="Attempts">Deliveries before it was dead-lettered; null when not recorded.</param>
/// <param name="DeadLetteredAt">When it was dead-lettered.</param>
/// <param name="SourcePartition">The partition of the group's topic it came from.</param>
/// <param name="SourceOffset">Its offset there.</param>
/// <param name="Message">
/// The stored dead letter in the shape a consumer sees (<see cref="MessageView"/>): the original key, payload and
/// headers (Granary's among them), its offset in the dead-letter topic, and as delivery attempt the deliveries
/// before it was dead-lettered.
/// </param>
public sealed record DeadLetter(
    int Partition,
    long Offset,
    string Reason,
    int? Attempts,
    DateTimeOffset DeadLetteredAt,
    int SourcePartition,
    long SourceOffset,
    MessageView Message);
