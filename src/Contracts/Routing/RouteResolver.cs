using MailRelay.Contracts.Patterns;
using MailRelay.Contracts.RoutingTable;

namespace MailRelay.Contracts.Routing;

/// <summary>What happens to mail that no route matches (<c>--default-action</c>).</summary>
public enum DefaultAction
{
    /// <summary>Deliver to the recipient's MX hosts.</summary>
    Direct,

    /// <summary>Refuse at RCPT with 550 5.7.1.</summary>
    Reject,
}

/// <summary>Decides the route of a (sender, recipient) pair by docs/api.md's rules. Pure and thread-safe.</summary>
public sealed class RouteResolver(RouteIndex index, DefaultAction defaultAction)
{
    /// <summary>The reply text when the default action rejects.</summary>
    public const string NoRouteRejectMessage = "sender not allowed to relay: no mail route matches";

    private readonly RouteDecision _default = defaultAction == DefaultAction.Reject
        ? new RouteDecision(null, RouteAction.Reject, "no route matches; the default action is reject", [])
        : new RouteDecision(null, RouteAction.Direct, "no route matches; the default action is direct", []);

    /// <summary>The default action for unmatched mail.</summary>
    public DefaultAction DefaultAction { get; } = defaultAction;

    /// <summary>The index decisions are made from.</summary>
    public RouteIndex Index { get; } = index;

    /// <summary>
    /// The decision for one pair, without the losing candidates (the hot path). Allocates nothing:
    /// decisions are made once, when the index is built, and shared (they are immutable).
    /// </summary>
    public RouteDecision Resolve(EnvelopeAddress sender, EnvelopeAddress recipient) =>
        Index.FindBestDecision(sender, recipient) ?? _default;

    /// <summary>The decision with every candidate and the rule that decided it, for <c>explain</c>.</summary>
    public RouteDecision Explain(EnvelopeAddress sender, EnvelopeAddress recipient)
    {
        var all = Index.FindAll(sender, recipient);
        if (all.Count == 0)
        {
            return _default;
        }

        var winner = all[0];
        var reason = all.Count == 1
            ? "the only matching route"
            : "wins over " + all[1].Route.Name + " by " + RouteCandidate.DecidingRule(winner, all[1]);
        return new RouteDecision(winner, winner.Route.Action, reason, all.Skip(1).ToList());
    }
}
