using Granary.Grains.Cursors;

namespace Granary.Grains.Delivery;

/// <summary>A message on its way to the dead-letter topic.</summary>
/// <param name="Message">The message.</param>
/// <param name="Reason">One of <see cref="GranaryHeaders.Reasons"/>.</param>
/// <param name="Attempts">How often it was delivered.</param>
internal readonly record struct DeadLetter(BufferedMessage Message, string Reason, int Attempts);
