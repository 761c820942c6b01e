using MailRelay.Contracts.Routing;
using MailRelay.Operator.Render;

namespace MailRelay.Operator.Tests.Render;

/// <summary><c>explain -f</c>: the relay's explain over the table the operator would program from the resources.</summary>
public class ExplainOutputTests
{
    private const string Resources = """
        apiVersion: mailrelay.io/v1alpha1
        kind: MailRoute
        metadata: {name: example-com-via-ses, namespace: mail-relay}
        spec:
          senders: [example.com]
          relay: {host: smtp.example.net, credentialRef: {name: ses}}
        ---
        apiVersion: mailrelay.io/v1alpha1
        kind: RelayCredential
        metadata: {name: ses, namespace: mail-relay}
        spec: {secretRef: {name: sealed-ses}}
        ---
        apiVersion: mailrelay.io/v1alpha1
        kind: MailRoute
        metadata: {name: everything-direct, namespace: mail-relay}
        spec: {senders: ["*"], direct: {}}
        ---
        apiVersion: mailrelay.io/v1alpha1
        kind: MailRoute
        metadata: {name: greedy, namespace: tenant}
        spec: {senders: [example.com], priority: 1000, reject: {}}
        """;

    [Fact]
    public void The_route_its_reason_the_losers_and_what_was_left_out()
    {
        var snapshot = ResourceFiles.Snapshot(ResourceFiles.Parse("x.yaml", Resources), new HashSet<string> { "mail-relay" }, secretsElsewhere: true);
        var text = ExplainOutput.Format(snapshot, "shop@example.com", ["a@partner.example"], DefaultAction.Direct);
        Assert.Contains("route:     mail-relay/example-com-via-ses -> relay ", text);
        Assert.Contains("reason:    wins over mail-relay/everything-direct by rule 2", text);
        Assert.Contains("created unknown (no creationTimestamp)", text);
        Assert.Contains("not programmed (not taken into account above):\n  - tenant/greedy: NotPermitted: ", text);
        Assert.Contains("note: credential mail-relay.ses is external: Secret mail-relay/sealed-ses is not among the files", text);

        var unmatched = ExplainOutput.Format(snapshot with { Routes = [] }, "a@b.example", ["c@d.example"], DefaultAction.Reject);
        Assert.Contains("route:     (default) -> reject", unmatched);
    }

    [Fact]
    public void A_held_route_is_in_the_table_and_not_listed_as_left_out()
    {
        var snapshot = ResourceFiles.Snapshot(ResourceFiles.Parse("x.yaml", Resources), new HashSet<string> { "mail-relay" }, secretsElsewhere: false); // the Secret is missing: held
        var text = ExplainOutput.Format(snapshot, "shop@example.com", ["a@partner.example"], DefaultAction.Direct);
        Assert.Contains("mail-relay/example-com-via-ses -> held: ", text);
        Assert.DoesNotContain("  - mail-relay/example-com-via-ses:", text);
        Assert.Contains("  - tenant/greedy: NotPermitted", text);
    }
}
