using MailRelay.Contracts.RoutingTable;

namespace MailRelay.Contracts.Routing;

/// <summary>A route that matches a (sender, recipient) pair, with how specifically it matched.</summary>
public sealed record RouteCandidate(Route Route, int SenderSpecificity, int RecipientSpecificity)
{
    /// <summary>
    /// docs/api.md's precedence as one total order (best first): priority, sender specificity,
    /// recipient specificity, oldest creationTimestamp, then <c>namespace/name</c>.
    /// </summary>
    public static readonly IComparer<RouteCandidate> Precedence = Comparer<RouteCandidate>.Create(Compare);

    /// <summary>Names the first rule of the precedence on which <paramref name="winner"/> beats <paramref name="loser"/>.</summary>
    public static string DecidingRule(RouteCandidate winner, RouteCandidate loser)
    {
        if (winner.Route.Priority != loser.Route.Priority)
        {
            return $"rule 1, higher priority ({winner.Route.Priority} > {loser.Route.Priority})";
        }

        if (winner.SenderSpecificity != loser.SenderSpecificity)
        {
            return $"rule 2, more specific sender match ({Describe(winner.SenderSpecificity)} > {Describe(loser.SenderSpecificity)})";
        }

        if (winner.RecipientSpecificity != loser.RecipientSpecificity)
        {
            return $"rule 3, more specific recipient match ({Describe(winner.RecipientSpecificity)} > {Describe(loser.RecipientSpecificity)})";
        }

        if (winner.Route.Created != loser.Route.Created)
        {
            return $"rule 4, older creationTimestamp ({winner.Route.Created:u} < {loser.Route.Created:u})";
        }

        return "rule 4, namespace/name order";
    }

    private static string Describe(int specificity) => MailRelay.Contracts.Patterns.Specificities.Describe(specificity);

    private static int Compare(RouteCandidate? a, RouteCandidate? b)
    {
        if (ReferenceEquals(a, b))
        {
            return 0;
        }

        if (a is null)
        {
            return 1;
        }

        if (b is null)
        {
            return -1;
        }

        var c = b.Route.Priority.CompareTo(a.Route.Priority);
        if (c != 0)
        {
            return c;
        }

        c = b.SenderSpecificity.CompareTo(a.SenderSpecificity);
        if (c != 0)
        {
            return c;
        }

        c = b.RecipientSpecificity.CompareTo(a.RecipientSpecificity);
        if (c != 0)
        {
            return c;
        }

        c = a.Route.Created.CompareTo(b.Route.Created);
        return c != 0 ? c : string.CompareOrdinal(a.Route.Name, b.Route.Name);
    }
}
