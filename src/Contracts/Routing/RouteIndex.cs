using MailRelay.Contracts.Patterns;
using MailRelay.Contracts.RoutingTable;

namespace MailRelay.Contracts.Routing;

/// <summary>
/// Hash index over a routing table, so that a lookup costs the same for 10 or 100,000 routes:
/// every (sender pattern, recipient pattern) pair of every route is a cell keyed by the two
/// patterns' keys; a lookup probes only the keys an address can match (its address, its domain,
/// each parent domain for wildcards, <c>*</c>), at most (labels + 3)² probes.
/// </summary>
public sealed class RouteIndex
{
    private const string EmptyRecipientsKey = "";
    private readonly Dictionary<string, Dictionary<string, RouteCandidate[]>> _cells = new(StringComparer.Ordinal);

    /// <summary>Builds the index; each cell's candidates are kept best first.</summary>
    public RouteIndex(RoutingTable.RoutingTable table)
    {
        Table = table;
        var build = new Dictionary<string, Dictionary<string, List<RouteCandidate>>>(StringComparer.Ordinal);
        foreach (var route in table.Routes)
        {
            foreach (var sender in route.Senders)
            {
                if (!build.TryGetValue(Key(sender), out var row))
                {
                    build[Key(sender)] = row = new Dictionary<string, List<RouteCandidate>>(StringComparer.Ordinal);
                }

                if (route.Recipients.Count == 0)
                {
                    Add(row, EmptyRecipientsKey, new RouteCandidate(route, sender.Specificity, Specificities.AnyRecipientByEmptyList));
                }

                foreach (var recipient in route.Recipients)
                {
                    Add(row, Key(recipient), new RouteCandidate(route, sender.Specificity, recipient.Specificity));
                }
            }
        }

        foreach (var (senderKey, row) in build)
        {
            var frozen = new Dictionary<string, RouteCandidate[]>(row.Count, StringComparer.Ordinal);
            foreach (var (recipientKey, list) in row)
            {
                list.Sort(RouteCandidate.Precedence);
                frozen[recipientKey] = [.. list];
            }

            _cells[senderKey] = frozen;
        }
    }

    /// <summary>The table this index was built from.</summary>
    public RoutingTable.RoutingTable Table { get; }

    /// <summary>The best matching candidate, or null when no route matches.</summary>
    public RouteCandidate? FindBest(EnvelopeAddress sender, EnvelopeAddress recipient)
    {
        RouteCandidate? best = null;
        foreach (var senderKey in ProbeKeys(sender))
        {
            if (!_cells.TryGetValue(senderKey, out var row))
            {
                continue;
            }

            foreach (var recipientKey in ProbeKeys(recipient).Append(EmptyRecipientsKey))
            {
                if (row.TryGetValue(recipientKey, out var cell)
                    && (best is null || RouteCandidate.Precedence.Compare(cell[0], best) < 0))
                {
                    best = cell[0];
                }
            }
        }

        return best;
    }

    /// <summary>Every matching candidate, one per route (its best match), best first. For <c>explain</c>.</summary>
    public IReadOnlyList<RouteCandidate> FindAll(EnvelopeAddress sender, EnvelopeAddress recipient)
    {
        var byRoute = new Dictionary<string, RouteCandidate>(StringComparer.Ordinal);
        foreach (var senderKey in ProbeKeys(sender))
        {
            if (!_cells.TryGetValue(senderKey, out var row))
            {
                continue;
            }

            foreach (var recipientKey in ProbeKeys(recipient).Append(EmptyRecipientsKey))
            {
                if (!row.TryGetValue(recipientKey, out var cell))
                {
                    continue;
                }

                foreach (var candidate in cell)
                {
                    if (!byRoute.TryGetValue(candidate.Route.Name, out var seen)
                        || RouteCandidate.Precedence.Compare(candidate, seen) < 0)
                    {
                        byRoute[candidate.Route.Name] = candidate;
                    }
                }
            }
        }

        var all = byRoute.Values.ToList();
        all.Sort(RouteCandidate.Precedence);
        return all;
    }

    private static void Add(Dictionary<string, List<RouteCandidate>> row, string key, RouteCandidate candidate)
    {
        if (!row.TryGetValue(key, out var list))
        {
            row[key] = list = [];
        }

        list.Add(candidate);
    }

    private static string Key(AddressPattern p) => p.Kind switch
    {
        PatternKind.Any => "*",
        PatternKind.NullSender => "<>",
        PatternKind.Address => "a:" + p.Value,
        PatternKind.Domain => "d:" + p.Value,
        _ => "w:" + p.Value,
    };

    private static IEnumerable<string> ProbeKeys(EnvelopeAddress address)
    {
        if (address.IsNull)
        {
            yield return "<>";
            yield return "*";
            yield break;
        }

        yield return "a:" + address.Normalized;
        yield return "d:" + address.Domain;
        var domain = address.Domain;
        for (var dot = domain.IndexOf('.'); dot >= 0; dot = domain.IndexOf('.', dot + 1))
        {
            yield return "w:" + domain[(dot + 1)..];
        }

        yield return "*";
    }
}
