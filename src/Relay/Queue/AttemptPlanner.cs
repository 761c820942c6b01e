using MailRelay.Contracts.Patterns;
using MailRelay.Contracts.Routing;
using MailRelay.Contracts.RoutingTable;
using MailRelay.Relay.Delivery;

namespace MailRelay.Relay.Queue;

/// <summary>
/// The pure first step of a delivery attempt (Postfix's qmgr + trivial-rewrite): the pending
/// recipients of a queue entry grouped by the route in force now, each route decided once per
/// attempt. Reject routes and addresses that cannot be routed are settled here as permanent
/// failures, hold routes as deferrals (<c>held: REASON</c>); an entry whose message file is gone is set aside.
/// </summary>
public static class AttemptPlanner
{
    /// <summary>The route name for recipients whose address cannot be routed.</summary>
    public const string Unroutable = "(unroutable)";

    /// <summary>Plans one attempt.</summary>
    public static AttemptPlan Plan(QueueEntry entry, RouteResolver resolver, bool messagePresent)
    {
        if (!messagePresent)
        {
            return AttemptPlan.Quarantine("its message file is missing");
        }

        var pending = entry.Recipients.Where(r => r.State == RecipientState.Pending).Select(r => r.Address).ToList();
        EnvelopeAddress sender;
        try
        {
            sender = EnvelopeAddress.Parse(entry.Sender);
        }
        catch (PatternException e)
        {
            return new AttemptPlan([], [new RouteResults(Unroutable, pending.Select(r => RecipientResult.Failed(r, "the sender cannot be routed: " + e.Message)).ToList())], null);
        }

        var deliveries = new List<(RouteDecision Decision, List<string> Recipients)>();
        var decided = new Dictionary<string, List<RecipientResult>>(StringComparer.Ordinal);
        foreach (var address in pending)
        {
            RouteDecision decision;
            try
            {
                decision = resolver.Resolve(sender, EnvelopeAddress.Parse(address));
            }
            catch (PatternException e)
            {
                Add(decided, Unroutable, RecipientResult.Failed(address, "the address cannot be routed: " + e.Message));
                continue;
            }

            if (decision.Action == RouteAction.Reject)
            {
                var message = decision.Winner?.Route.RejectMessage ?? RouteResolver.NoRouteRejectMessage;
                Add(decided, decision.RouteName, RecipientResult.Failed(address, "rejected by route " + decision.RouteName + ": " + message));
                continue;
            }

            if (decision.Action == RouteAction.Hold)
            {
                // Fail closed: the route keeps its mail, deferred with its reason, never handed to another route.
                Add(decided, decision.RouteName, RecipientResult.HeldBy(address, decision.Winner!.Route.HeldText));
                continue;
            }

            var group = deliveries.FindIndex(d => d.Decision.RouteName == decision.RouteName);
            if (group < 0)
            {
                deliveries.Add((decision, [address]));
            }
            else
            {
                deliveries[group].Recipients.Add(address);
            }
        }

        return new AttemptPlan(
            deliveries.Select(d => new PlannedDelivery(d.Decision, d.Recipients)).ToList(),
            decided.Select(kv => new RouteResults(kv.Key, kv.Value)).ToList(),
            null);
    }

    private static void Add(Dictionary<string, List<RecipientResult>> decided, string route, RecipientResult result)
    {
        if (!decided.TryGetValue(route, out var list))
        {
            decided[route] = list = [];
        }

        list.Add(result);
    }
}
