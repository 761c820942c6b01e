using MailRelay.Contracts.RoutingTable;

namespace MailRelay.Contracts.Routing;

/// <summary>
/// Where one (sender, recipient) pair goes: the winning route, or none (the default action);
/// with the reason and, when asked for, the losing candidates.
/// </summary>
public sealed record RouteDecision(
    RouteCandidate? Winner,
    RouteAction Action,
    string Reason,
    IReadOnlyList<RouteCandidate> Losers)
{
    /// <summary>The route's name, or <c>(default)</c>.</summary>
    public string RouteName => Winner?.Route.Name ?? DefaultRouteName;

    /// <summary>The name used for the default action in logs and metrics.</summary>
    public const string DefaultRouteName = "(default)";

    /// <summary>The reason of a decision made on the hot path, which does not rank the losers.</summary>
    public const string BestMatchReason = "highest-ranked matching route";

    /// <summary>The hot path's decision for <paramref name="winner"/> (no losers listed).</summary>
    public static RouteDecision Won(RouteCandidate winner) => new(winner, winner.Route.Action, BestMatchReason, []);
}
