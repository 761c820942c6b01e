using MailRelay.Contracts.Routing;
using MailRelay.Contracts.RoutingTable;
using MailRelay.Relay.Queue;

namespace MailRelay.Relay.Tests.Queue;

public sealed class AttemptPlannerTests
{
    private static readonly RouteResolver Resolver = new(new RouteIndex(RoutingTableYaml.Parse("""
        routes:
          - name: shop/example-com-via-ses
            created: "2026-11-01T09:00:00Z"
            senders: [example.com]
            relay: {host: ses.test, tls: Verify, credential: shop.ses}
          - name: ops/partner-direct
            priority: 10
            created: "2026-11-02T09:00:00Z"
            senders: ["*"]
            recipients: [partner.example]
            direct: {}
          - name: ops/no-blocked
            created: "2026-11-03T09:00:00Z"
            senders: ["*"]
            recipients: [blocked.example]
            reject: {message: "blocked.example takes no mail from here"}
        """)), DefaultAction.Direct);

    [Fact]
    public void Pending_recipients_are_grouped_by_their_route_decided_once_and_settled_ones_left_alone()
    {
        var entry = Entry("orders@example.com", ("a@gmail.test", RecipientState.Pending), ("b@partner.example", RecipientState.Pending),
            ("c@gmail.test", RecipientState.Pending), ("done@gmail.test", RecipientState.Delivered));

        var plan = AttemptPlanner.Plan(entry, Resolver, messagePresent: true);

        Assert.Null(plan.QuarantineReason);
        Assert.Empty(plan.Decided);
        Assert.Equal(
            ["shop/example-com-via-ses: a@gmail.test, c@gmail.test", "ops/partner-direct: b@partner.example"],
            plan.Deliveries.Select(d => d.Decision.RouteName + ": " + string.Join(", ", d.Recipients)));
    }

    [Fact]
    public void A_reject_route_and_an_unroutable_address_fail_those_recipients_only()
    {
        var entry = Entry("someone@other.test", ("x@blocked.example", RecipientState.Pending), ("no-domain@", RecipientState.Pending), ("y@gmail.test", RecipientState.Pending));

        var plan = AttemptPlanner.Plan(entry, Resolver, messagePresent: true);

        Assert.Equal(["(default): y@gmail.test"], plan.Deliveries.Select(d => d.Decision.RouteName + ": " + string.Join(", ", d.Recipients)));
        var decided = plan.Decided.SelectMany(g => g.Results.Select(r => (g.Route, r.Address, r.State, r.Detail))).ToList();
        Assert.Collection(decided,
            d => Assert.Equal(("ops/no-blocked", "x@blocked.example", RecipientState.Failed), (d.Route, d.Address, d.State)),
            d => Assert.Equal((AttemptPlanner.Unroutable, "no-domain@", RecipientState.Failed), (d.Route, d.Address, d.State)));
        Assert.Contains("blocked.example takes no mail from here", decided[0].Detail);
    }

    [Fact]
    public void An_entry_without_its_message_file_is_set_aside()
    {
        var plan = AttemptPlanner.Plan(Entry("orders@example.com", ("a@gmail.test", RecipientState.Pending)), Resolver, messagePresent: false);

        Assert.Equal("its message file is missing", plan.QuarantineReason);
        Assert.Empty(plan.Deliveries);
    }

    internal static QueueEntry Entry(string sender, params (string Address, RecipientState State)[] recipients) => new()
    {
        Id = "00000000000000000001",
        Sender = sender,
        ReceivedAt = new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero),
        Recipients = recipients.Select(r => new QueueRecipient { Address = r.Address, State = r.State }).ToList(),
    };
}
