using Granary.Grains.Cursors;

namespace Granary.Grains.Delivery;

/// <summary>A message leased to a member (a value: no object per delivery).</summary>
/// <param name="Message">The leased message.</param>
/// <param name="Member">Who holds it.</param>
/// <param name="ExpiresAtMs">When the lease runs out (Unix ms).</param>
/// <param name="Attempt">Which delivery of the message this is (1 for the first).</param>
/// <param name="Id">The delivery's lease id, unique per delivery of the cursor.</param>
internal readonly record struct Lease(BufferedMessage Message, string Member, long ExpiresAtMs, int Attempt, long Id);
