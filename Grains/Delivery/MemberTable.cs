namespace Granary.Grains.Delivery;

/// <summary>
/// The members that hold leases, each under a small number, so that a lease stores an int rather than a reference
/// to its member's id string. A number is freed when its member's last lease ends and may be reused then. Also
/// counts each member's leases. Not thread-safe.
/// </summary>
internal sealed class MemberTable
{
    private readonly Dictionary<string, int> _numbers = [];
    private readonly List<string?> _names = [];
    private readonly List<int> _leases = [];
    private readonly Stack<int> _free = [];

    /// <summary>One more lease of <paramref name="member"/>; returns its number.</summary>
    public int Acquire(string member)
    {
        if (!_numbers.TryGetValue(member, out int number))
        {
            if (_free.TryPop(out number))
            {
                _names[number] = member;
            }
            else
            {
                number = _names.Count;
                _names.Add(member);
                _leases.Add(0);
            }
            _numbers[member] = number;
        }
        _leases[number]++;
        return number;
    }

    /// <summary>One lease of the member numbered <paramref name="number"/> ended.</summary>
    public void Release(int number)
    {
        if (--_leases[number] > 0) return;
        _numbers.Remove(_names[number]!);
        _names[number] = null;
        _free.Push(number);
    }

    /// <summary>The number of <paramref name="member"/> while it holds leases.</summary>
    public bool TryGetNumber(string member, out int number) => _numbers.TryGetValue(member, out number);

    /// <summary>How many leases <paramref name="member"/> holds.</summary>
    public int LeasesOf(string member) => _numbers.TryGetValue(member, out int number) ? _leases[number] : 0;

    public void Clear()
    {
        _numbers.Clear();
        _names.Clear();
        _leases.Clear();
        _free.Clear();
    }
}
