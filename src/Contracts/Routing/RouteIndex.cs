using MailRelay.Contracts.Patterns;

namespace MailRelay.Contracts.Routing;

/// <summary>
/// Hash index over a routing table, so that a lookup costs the same for 10 or 100,000 routes:
/// every (sender pattern, recipient pattern) pair of every route is a cell keyed by the two
/// patterns; a lookup probes only the keys an address can match (its address, its domain, each
/// parent domain for wildcards, <c>*</c>), at most (labels + 3)² probes, and allocates nothing
/// (<see cref="PatternMap{T}"/>: one table per pattern kind, wildcards looked up by span).
/// </summary>
public sealed class RouteIndex
{
    private readonly PatternMap<Row> _rows = new();

    /// <summary>Builds the index; each cell's candidates are kept best first.</summary>
    public RouteIndex(RoutingTable.RoutingTable table)
    {
        Table = table;
        foreach (var route in table.Routes)
        {
            foreach (var sender in route.Senders)
            {
                var row = _rows.GetOrAdd(sender);
                if (route.Recipients.Count == 0)
                {
                    (row.AnyRecipientByEmptyList ??= new Cell()).Add(new RouteCandidate(route, sender.Specificity, Specificities.AnyRecipientByEmptyList));
                }

                foreach (var recipient in route.Recipients)
                {
                    row.Recipients.GetOrAdd(recipient).Add(new RouteCandidate(route, sender.Specificity, recipient.Specificity));
                }
            }
        }

        _rows.ForEach(row =>
        {
            row.AnyRecipientByEmptyList?.Freeze();
            row.Recipients.ForEach(cell => cell.Freeze());
        });
    }

    /// <summary>The table this index was built from.</summary>
    public RoutingTable.RoutingTable Table { get; }

    /// <summary>The best matching candidate, or null when no route matches.</summary>
    public RouteCandidate? FindBest(EnvelopeAddress sender, EnvelopeAddress recipient) => FindBestCell(sender, recipient)?.Best;

    /// <summary>The decision for the best matching candidate (one instance per cell, made when the index is built), or null when no route matches.</summary>
    public RouteDecision? FindBestDecision(EnvelopeAddress sender, EnvelopeAddress recipient) => FindBestCell(sender, recipient)?.Decision;

    /// <summary>Every matching candidate, one per route (its best match), best first. For <c>explain</c>.</summary>
    public IReadOnlyList<RouteCandidate> FindAll(EnvelopeAddress sender, EnvelopeAddress recipient)
    {
        var byRoute = new Dictionary<string, RouteCandidate>(StringComparer.Ordinal);
        foreach (var row in _rows.Matching(sender))
        {
            foreach (var cell in row.Recipients.Matching(recipient))
            {
                Collect(byRoute, cell);
            }

            if (row.AnyRecipientByEmptyList is { } any)
            {
                Collect(byRoute, any);
            }
        }

        var all = byRoute.Values.ToList();
        all.Sort(RouteCandidate.Precedence);
        return all;
    }

    private static void Collect(Dictionary<string, RouteCandidate> byRoute, Cell cell)
    {
        foreach (var candidate in cell.Candidates)
        {
            if (!byRoute.TryGetValue(candidate.Route.Name, out var seen)
                || RouteCandidate.Precedence.Compare(candidate, seen) < 0)
            {
                byRoute[candidate.Route.Name] = candidate;
            }
        }
    }

    private Cell? FindBestCell(EnvelopeAddress sender, EnvelopeAddress recipient)
    {
        Cell? best = null;
        foreach (var row in _rows.Matching(sender))
        {
            foreach (var cell in row.Recipients.Matching(recipient))
            {
                best = Better(cell, best);
            }

            if (row.AnyRecipientByEmptyList is { } any)
            {
                best = Better(any, best);
            }
        }

        return best;
    }

    private static Cell Better(Cell cell, Cell? best) =>
        best is null || RouteCandidate.Precedence.Compare(cell.Best, best.Best) < 0 ? cell : best;

    /// <summary>The cells of one sender pattern: by recipient pattern, and the routes that list no recipients.</summary>
    private sealed class Row
    {
        public PatternMap<Cell> Recipients { get; } = new();

        public Cell? AnyRecipientByEmptyList { get; set; }
    }

    /// <summary>The candidates of one (sender pattern, recipient pattern) pair, best first, and the decision for the best.</summary>
    private sealed class Cell
    {
        private List<RouteCandidate>? _building = [];

        public RouteCandidate[] Candidates { get; private set; } = [];

        public RouteCandidate Best { get; private set; } = null!;

        public RouteDecision Decision { get; private set; } = null!;

        public void Add(RouteCandidate candidate) => _building!.Add(candidate);

        public void Freeze()
        {
            _building!.Sort(RouteCandidate.Precedence);
            Candidates = [.. _building];
            _building = null;
            Best = Candidates[0];
            Decision = RouteDecision.Won(Best);
        }
    }
}
