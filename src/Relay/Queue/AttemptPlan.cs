using MailRelay.Contracts.Routing;
using MailRelay.Relay.Delivery;

namespace MailRelay.Relay.Queue;

/// <summary>One delivery of an attempt: the pending recipients that go by one route.</summary>
/// <param name="Decision">The route decision they share.</param>
/// <param name="Recipients">The recipients, as queued.</param>
public sealed record PlannedDelivery(RouteDecision Decision, IReadOnlyList<string> Recipients);

/// <summary>The results of one route within an attempt.</summary>
/// <param name="Route">The route's name (or <c>(default)</c>, or <c>(unroutable)</c>).</param>
/// <param name="Results">One result per recipient.</param>
public sealed record RouteResults(string Route, IReadOnlyList<RecipientResult> Results);

/// <summary>What one attempt will do with a queue entry.</summary>
/// <param name="Deliveries">What goes to a delivery agent, one per route.</param>
/// <param name="Decided">What the plan already settled: reject routes, addresses that cannot be routed, recipients held by hold routes.</param>
/// <param name="QuarantineReason">Set when the entry cannot be processed at all.</param>
public sealed record AttemptPlan(IReadOnlyList<PlannedDelivery> Deliveries, IReadOnlyList<RouteResults> Decided, string? QuarantineReason)
{
    /// <summary>A plan that sets the entry aside.</summary>
    public static AttemptPlan Quarantine(string reason) => new([], [], reason);
}
