using MailRelay.Contracts.Patterns;
using MailRelay.Contracts.Routing;
using MailRelay.Contracts.RoutingTable;

namespace MailRelay.Relay.Queue;

/// <summary>
/// A queued message whose pending recipients a hold route keeps (fail closed), as it stood after
/// its last attempt: an immutable copy, so a new routing table can be checked against it while the
/// entry itself is left alone.
/// </summary>
/// <param name="Id">Queue id.</param>
/// <param name="Sender">MAIL FROM as received.</param>
/// <param name="Recipients">Each held recipient and the route that holds it.</param>
public sealed record HeldMessage(string Id, string Sender, IReadOnlyList<(string Address, string Route)> Recipients)
{
    /// <summary>The routes that hold this message.</summary>
    public IReadOnlySet<string> Routes { get; } = Recipients.Select(r => r.Route).ToHashSet(StringComparer.Ordinal);

    /// <summary>The held part of <paramref name="entry"/>, or null when no pending recipient is held.</summary>
    public static HeldMessage? Of(QueueEntry entry)
    {
        var held = entry.Recipients.Where(r => r.State == RecipientState.Pending && r.Held)
            .Select(r => (r.Address, r.Route ?? RouteDecision.DefaultRouteName)).ToList();
        return held.Count == 0 ? null : new HeldMessage(entry.Id, entry.Sender, held);
    }

    /// <summary>
    /// True when <paramref name="resolver"/> (a new table) no longer holds at least one of the held
    /// recipients: the message is to be tried at once, not at its backoff slot.
    /// </summary>
    public bool ReleasedBy(RouteResolver resolver)
    {
        try
        {
            var sender = EnvelopeAddress.Parse(Sender);
            return Recipients.Any(r => resolver.Resolve(sender, EnvelopeAddress.Parse(r.Address)).Action != RouteAction.Hold);
        }
        catch (PatternException)
        {
            return true; // the attempt settles an address that cannot be routed
        }
    }
}

/// <summary>
/// The held messages of the queue, by id and by route: the state behind
/// <c>mailrelay_held_messages{route}</c> and the list a new routing table is checked against.
/// Not thread-safe: the scheduler uses it under its lock.
/// </summary>
public sealed class HeldIndex
{
    private readonly Dictionary<string, HeldMessage> _byId = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _byRoute = new(StringComparer.Ordinal);

    /// <summary>Held messages in the queue.</summary>
    public int Count => _byId.Count;

    /// <summary>The held messages.</summary>
    public IEnumerable<HeldMessage> Messages => _byId.Values;

    /// <summary>Held messages that <paramref name="route"/> keeps (a message counts once per route).</summary>
    public int CountFor(string route) => _byRoute.GetValueOrDefault(route);

    /// <summary>Records a message's held state (null: not held, or gone); returns the routes whose count changed.</summary>
    public IReadOnlyCollection<string> Set(string id, HeldMessage? held)
    {
        var changed = new HashSet<string>(StringComparer.Ordinal);
        if (_byId.Remove(id, out var before))
        {
            foreach (var route in before.Routes)
            {
                changed.Add(route);
                if (--_byRoute[route] == 0)
                {
                    _byRoute.Remove(route);
                }
            }
        }

        if (held is not null)
        {
            _byId[id] = held;
            foreach (var route in held.Routes)
            {
                _byRoute[route] = _byRoute.GetValueOrDefault(route) + 1;
                if (!changed.Add(route))
                {
                    changed.Remove(route); // held by the same route before and after: its count is unchanged
                }
            }
        }

        return changed;
    }
}
