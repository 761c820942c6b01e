using System.Text;
using MailRelay.Contracts.Patterns;
using MailRelay.Contracts.Routing;
using MailRelay.Contracts.RoutingTable;
using MailRelay.Operator.DesiredState;

namespace MailRelay.Operator.Render;

/// <summary>
/// <c>explain</c> over resources: the routing table the operator would program from them
/// (<see cref="DesiredStateBuilder"/>), asked with the relay's own <see cref="RouteResolver"/> and
/// <see cref="ExplainReport"/>; then the MailRoutes left out of the table, with their reasons.
/// </summary>
public static class ExplainOutput
{
    /// <summary>The report; throws <see cref="PatternException"/> for an address that does not parse.</summary>
    public static string Format(ClusterSnapshot snapshot, string from, IReadOnlyList<string> to, DefaultAction defaultAction)
    {
        var sender = EnvelopeAddress.Parse(from);
        var recipients = to.Select(EnvelopeAddress.Parse).ToList();
        var desired = DesiredStateBuilder.Build(snapshot);
        var table = RoutingTableYaml.Parse(desired.RoutesYaml);
        var text = new StringBuilder(ExplainReport.Format(new RouteResolver(new RouteIndex(table), defaultAction), sender, recipients));
        var left = desired.Routes.Where(v => !v.Ok && v.HoldReason is null).ToList(); // a held route is in the table (its mail waits)
        if (left.Count > 0)
        {
            text.Append("not programmed (not taken into account above):\n");
            foreach (var v in left)
            {
                text.Append("  - ").Append(v.Key).Append(": ").Append(v.Reason).Append(": ").Append(v.Message).Append('\n');
            }
        }

        foreach (var (name, secret) in desired.ExternalCredentials)
        {
            text.Append("note: credential ").Append(name).Append(" is external: Secret ").Append(secret)
                .Append(" is not among the files; its routes are programmed as if it were present\n");
        }

        return text.ToString();
    }
}
