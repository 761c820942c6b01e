using System.Text;
using MailRelay.Contracts.Patterns;
using MailRelay.Contracts.RoutingTable;

namespace MailRelay.Contracts.Routing;

/// <summary>Formats <c>explain</c> output: per recipient the route, the deciding rule, and the losing candidates.</summary>
public static class ExplainReport
{
    /// <summary>The report for one sender and its recipients.</summary>
    public static string Format(RouteResolver resolver, EnvelopeAddress sender, IReadOnlyList<EnvelopeAddress> recipients)
    {
        var text = new StringBuilder();
        var routes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var recipient in recipients)
        {
            var decision = resolver.Explain(sender, recipient);
            routes.Add(decision.RouteName);
            text.Append("sender:    ").AppendLine(sender.ToString())
                .Append("recipient: ").AppendLine(recipient.ToString())
                .Append("route:     ").Append(decision.RouteName).Append(" -> ")
                .AppendLine(decision.Winner?.Route.ActionText ?? DefaultText(resolver))
                .Append("reason:    ").AppendLine(decision.Reason);
            if (decision.Action == RouteAction.Hold)
            {
                text.AppendLine("hold:      accepted and queued, deferred with this reason; no other route nor the default action takes it; delivered at once when the route is released");
            }

            if (decision.Winner is { } w)
            {
                text.Append("match:     ").AppendLine(Describe(w));
            }

            if (decision.Losers.Count > 0)
            {
                text.AppendLine("losing candidates:");
                foreach (var loser in decision.Losers)
                {
                    text.Append("  - ").Append(loser.Route.Name).Append(": ").Append(Describe(loser))
                        .Append("; lost by ").AppendLine(RouteCandidate.DecidingRule(decision.Winner!, loser));
                }
            }

            text.AppendLine();
        }

        text.Append("deliveries: ").Append(routes.Count).Append(routes.Count == 1 ? " (one route)" : " (recipients split by route)").AppendLine();
        return text.ToString();
    }

    private static string Describe(RouteCandidate c) =>
        $"priority {c.Route.Priority}, sender {Specificities.Describe(c.SenderSpecificity)}, recipient {Specificities.Describe(c.RecipientSpecificity)}, created {Created(c.Route)}, {c.Route.ActionText}";

    /// <summary>A route without <c>created</c> (resources from files: the API server sets creationTimestamp) says so.</summary>
    private static string Created(RoutingTable.Route route) =>
        route.Created == DateTimeOffset.UnixEpoch ? "unknown (no creationTimestamp)" : route.Created.ToString("u", System.Globalization.CultureInfo.InvariantCulture);

    private static string DefaultText(RouteResolver resolver) =>
        resolver.DefaultAction == DefaultAction.Reject ? "reject (550 5.7.1 " + RouteResolver.NoRouteRejectMessage + ")" : "direct (MX)";
}
