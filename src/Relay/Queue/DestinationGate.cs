namespace MailRelay.Relay.Queue;

/// <summary>
/// Per-destination delivery limits (Postfix's qmgr: <c>default_destination_concurrency_limit</c>
/// and "dead" destinations), so that one slow or unreachable next hop never takes every worker:
/// at most <c>limit</c> deliveries to one destination at a time, the rest parked on it (not
/// spinning) until a slot frees; and a destination that could not be reached at all is suspended
/// for a while — its mail is deferred at once instead of tying a worker up until a time-out again.
/// A destination is a relay's host:port or, for direct delivery, the recipient domain.
/// </summary>
public sealed class DestinationGate(int limit, TimeProvider time)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, int> _busy = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, Queue<QueueEntry>> _parked = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, (DateTimeOffset Until, string Reason)> _suspended = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The plan's deliveries by destination: a relay route's is its host:port; direct delivery is
    /// split by recipient domain (each domain has its own mail hosts).
    /// </summary>
    public static IEnumerable<(PlannedDelivery Delivery, string Destination)> Split(IEnumerable<PlannedDelivery> deliveries)
    {
        foreach (var delivery in deliveries)
        {
            if (delivery.Decision.Winner?.Route.Relay is { } relay)
            {
                yield return (delivery, $"{relay.Host}:{relay.Port}");
                continue;
            }

            foreach (var byDomain in delivery.Recipients.GroupBy(Domain, StringComparer.OrdinalIgnoreCase))
            {
                yield return (delivery with { Recipients = byDomain.ToList() }, byDomain.Key);
            }
        }
    }

    /// <summary>Deliveries to one destination at a time.</summary>
    public int Limit => limit;

    /// <summary>
    /// Takes a slot on every destination of <paramref name="keys"/>, or none: when one is at its
    /// limit, <paramref name="entry"/> is parked on it (returned by <see cref="Exit"/> when a slot
    /// frees) and false is returned.
    /// </summary>
    public bool TryEnter(IReadOnlyCollection<string> keys, QueueEntry entry)
    {
        lock (_lock)
        {
            foreach (var key in keys)
            {
                if (_busy.GetValueOrDefault(key) >= limit)
                {
                    if (!_parked.TryGetValue(key, out var parked))
                    {
                        _parked[key] = parked = new Queue<QueueEntry>();
                    }

                    parked.Enqueue(entry);
                    return false;
                }
            }

            foreach (var key in keys)
            {
                _busy[key] = _busy.GetValueOrDefault(key) + 1;
            }

            return true;
        }
    }

    /// <summary>
    /// Frees the slots taken by <see cref="TryEnter"/>; returns the parked entries to try now: one per
    /// freed slot, or all parked on a destination that is suspended (they are deferred at once).
    /// </summary>
    public IReadOnlyList<QueueEntry> Exit(IReadOnlyCollection<string> keys)
    {
        var wake = new List<QueueEntry>();
        lock (_lock)
        {
            foreach (var key in keys)
            {
                if (_busy.GetValueOrDefault(key) <= 1)
                {
                    _busy.Remove(key);
                }
                else
                {
                    _busy[key]--;
                }

                if (!_parked.TryGetValue(key, out var parked))
                {
                    continue;
                }

                if (_suspended.TryGetValue(key, out var s) && time.GetUtcNow() < s.Until)
                {
                    wake.AddRange(parked);
                    parked.Clear();
                }
                else if (parked.TryDequeue(out var next))
                {
                    wake.Add(next);
                }

                if (parked.Count == 0)
                {
                    _parked.Remove(key);
                }
            }
        }

        return wake;
    }

    /// <summary>Why mail for <paramref name="key"/> is not to be tried now, or null when it may be.</summary>
    public string? Suspension(string key)
    {
        lock (_lock)
        {
            if (!_suspended.TryGetValue(key, out var s))
            {
                return null;
            }

            if (time.GetUtcNow() >= s.Until)
            {
                _suspended.Remove(key);
                return null;
            }

            return $"{key} could not be reached; not tried again before {s.Until:u}: {s.Reason}";
        }
    }

    /// <summary>The destination could not be reached at all: suspend it for <paramref name="duration"/>.</summary>
    public void Unreachable(string key, TimeSpan duration, string reason)
    {
        lock (_lock)
        {
            _suspended[key] = (time.GetUtcNow() + duration, reason);
        }
    }

    /// <summary>The destination answered: it is not suspended.</summary>
    public void Reached(string key)
    {
        lock (_lock)
        {
            _suspended.Remove(key);
        }
    }

    private static string Domain(string address)
    {
        var at = address.LastIndexOf('@');
        return at < 0 ? address : address[(at + 1)..];
    }
}
