using MailRelay.Contracts.Patterns;

namespace MailRelay.Contracts.RoutingTable;

/// <summary>One validated route of the routing table (a programmed MailRoute).</summary>
/// <param name="Name">The MailRoute's <c>namespace/name</c>.</param>
/// <param name="Priority">-1000..1000; higher wins.</param>
/// <param name="Created">The MailRoute's creationTimestamp: older wins a tie.</param>
/// <param name="Senders">1..100 sender patterns.</param>
/// <param name="Recipients">0..100 recipient patterns; empty matches any recipient.</param>
/// <param name="Action">Relay, direct, reject or hold.</param>
/// <param name="Relay">The upstream, for <see cref="RouteAction.Relay"/>.</param>
/// <param name="RejectMessage">The text after <c>550 5.7.1</c>, for <see cref="RouteAction.Reject"/>.</param>
/// <param name="HoldReason">Why the route's mail waits, for <see cref="RouteAction.Hold"/> (names only, never a secret).</param>
public sealed record Route(
    string Name,
    int Priority,
    DateTimeOffset Created,
    IReadOnlyList<AddressPattern> Senders,
    IReadOnlyList<AddressPattern> Recipients,
    RouteAction Action,
    RelayTarget? Relay,
    string? RejectMessage,
    string? HoldReason = null)
{
    /// <summary>The reply text when a reject route gives no message.</summary>
    public const string DefaultRejectMessage = "sender rejected by mail route";

    /// <summary>The hold reason when a hold route gives none.</summary>
    public const string DefaultHoldReason = "held by the routing table";

    /// <summary>The deferral text of a recipient a hold route keeps: <c>held: REASON</c>.</summary>
    public string HeldText => "held: " + (HoldReason ?? DefaultHoldReason);

    /// <summary>A short description of the action for logs and explain.</summary>
    public string ActionText => Action switch
    {
        RouteAction.Relay => $"relay {Relay}",
        RouteAction.Direct => "direct (MX)",
        RouteAction.Hold => HeldText,
        _ => $"reject \"{RejectMessage}\"",
    };

    /// <summary>
    /// This route kept in the table with the <see cref="RouteAction.Hold"/> action (same claim:
    /// name, priority, patterns, creation time), its upstream dropped.
    /// </summary>
    public Route AsHeld(string reason) => this with { Action = RouteAction.Hold, Relay = null, RejectMessage = null, HoldReason = RouteValidator.NormalizeHoldReason(reason) };
}
