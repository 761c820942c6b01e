using MailRelay.Contracts.Routing;
using MailRelay.Contracts.RoutingTable;
using MailRelay.Relay.Config;
using MailRelay.Relay.Delivery;
using MailRelay.Relay.Queue;

namespace MailRelay.Relay.Tests.Queue;

/// <summary>Held routes in the queue: planned as deferrals, recorded as held, released by a new table, counted per route.</summary>
public sealed class HeldMailTests
{
    private const string Table = """
        routes:
          - name: shop/example-com-via-ses
            created: "2026-11-01T09:00:00Z"
            senders: [example.com]
            hold: {reason: "CredentialNotFound: Secret shop/ses-smtp does not exist"}
          - name: ops/partner-direct
            priority: 10
            created: "2026-11-02T09:00:00Z"
            senders: ["*"]
            recipients: [partner.example]
            direct: {}
        """;

    private static readonly RetryPolicy Retry = new(TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(60), TimeSpan.FromDays(5));
    private static readonly RouteResolver Held = Resolver(Table);
    private static readonly RouteResolver Released = Resolver(Table.Replace("hold: {reason: \"CredentialNotFound: Secret shop/ses-smtp does not exist\"}", "relay: {host: ses.test, credential: shop.ses}", StringComparison.Ordinal));

    [Fact]
    public void A_hold_route_defers_its_recipients_with_the_reason_and_hands_them_to_no_agent_nor_the_default()
    {
        var entry = AttemptPlannerTests.Entry("orders@example.com", ("a@gmail.test", RecipientState.Pending), ("b@partner.example", RecipientState.Pending));

        var plan = AttemptPlanner.Plan(entry, Held, messagePresent: true);

        Assert.Equal(["ops/partner-direct: b@partner.example"], plan.Deliveries.Select(d => d.Decision.RouteName + ": " + string.Join(", ", d.Recipients)));
        var held = Assert.Single(plan.Decided);
        Assert.Equal("shop/example-com-via-ses", held.Route);
        var result = Assert.Single(held.Results);
        Assert.Equal(("a@gmail.test", RecipientState.Pending, true), (result.Address, result.State, result.Held));
        Assert.Equal("held: CredentialNotFound: Secret shop/ses-smtp does not exist", result.Detail);
    }

    [Fact]
    public void A_held_recipient_is_recorded_as_held_and_deferred_with_backoff_and_a_delivery_clears_the_mark()
    {
        var entry = AttemptPlannerTests.Entry("orders@example.com", ("a@gmail.test", RecipientState.Pending));
        var now = entry.ReceivedAt.AddSeconds(1);

        var outcome = OutcomeRecorder.Record(entry, AttemptPlanner.Plan(entry, Held, messagePresent: true).Decided, now, Retry);

        var recipient = entry.Recipients[0];
        Assert.Equal((RecipientState.Pending, true, "shop/example-com-via-ses"), (recipient.State, recipient.Held, recipient.Route));
        Assert.StartsWith("held: ", recipient.LastResult, StringComparison.Ordinal);
        Assert.Equal(new RouteTally("shop/example-com-via-ses", 0, 1, 0, recipient.LastResult), outcome.Routes.Single());
        Assert.Equal(now + Retry.Min, outcome.NextAttemptAt);

        OutcomeRecorder.Record(entry, [new RouteResults("shop/example-com-via-ses", [RecipientResult.Deferred("a@gmail.test", "451 try later")])], now, Retry);
        Assert.False(recipient.Held);
    }

    [Fact]
    public void Held_mail_ages_like_any_deferred_mail_the_queue_lifetime_fails_it_with_the_hold_reason()
    {
        var entry = AttemptPlannerTests.Entry("orders@example.com", ("a@gmail.test", RecipientState.Pending));

        var outcome = OutcomeRecorder.Record(entry, AttemptPlanner.Plan(entry, Held, messagePresent: true).Decided, entry.ReceivedAt + Retry.MaxLifetime + TimeSpan.FromSeconds(1), Retry);

        Assert.True(outcome.Done);
        var failed = Assert.Single(outcome.Expired);
        Assert.Equal(RecipientState.Failed, failed.State);
        Assert.False(failed.Held);
        Assert.Contains("last error: held: CredentialNotFound", failed.LastResult, StringComparison.Ordinal);
        Assert.Null(HeldMessage.Of(entry));
    }

    [Fact]
    public void A_new_table_releases_held_mail_only_when_the_route_no_longer_holds_it()
    {
        var entry = AttemptPlannerTests.Entry("orders@example.com", ("a@gmail.test", RecipientState.Pending), ("b@partner.example", RecipientState.Pending));
        OutcomeRecorder.Record(entry, AttemptPlanner.Plan(entry, Held, messagePresent: true).Decided, entry.ReceivedAt, Retry);

        var held = HeldMessage.Of(entry);

        Assert.NotNull(held);
        Assert.Equal([("a@gmail.test", "shop/example-com-via-ses")], held.Recipients);
        Assert.False(held.ReleasedBy(Held));
        Assert.False(held.ReleasedBy(Resolver(Table.Replace("Secret shop/ses-smtp does not exist", "another reason", StringComparison.Ordinal))));
        Assert.True(held.ReleasedBy(Released));
        Assert.True(held.ReleasedBy(Resolver("routes: []")), "a route deleted: the default action takes the mail");
    }

    [Fact]
    public void The_relay_holds_a_route_whose_credential_files_are_missing_instead_of_sending_without_AUTH()
    {
        var table = RelayConfigLoader.Build("routes:\n  - name: shop/ses\n    senders: [example.com]\n    relay: {host: smtp.example, credential: shop.ses}\n  - name: shop/plain\n    senders: [plain.example]\n    relay: {host: smtp.example, tls: None}\n", CredentialSet.Empty, DefaultAction.Direct).Table;

        Assert.Equal(RouteAction.Hold, table.Routes[0].Action);
        Assert.Contains("credential 'shop.ses' is not in the relay's credentials directory", table.Routes[0].HoldReason, StringComparison.Ordinal);
        Assert.Equal(RouteAction.Relay, table.Routes[1].Action);
    }

    [Fact]
    public void The_index_counts_held_messages_per_route_and_says_which_counts_changed()
    {
        var index = new HeldIndex();
        var a = new HeldMessage("a", "x@example.com", [("1@t.test", "shop/ses"), ("2@t.test", "shop/ses")]);
        var b = new HeldMessage("b", "x@example.com", [("1@t.test", "shop/ses"), ("2@t.test", "shop/other")]);

        Assert.Equal(["shop/ses"], index.Set("a", a));
        Assert.Equal(["shop/other"], index.Set("b", b).Where(r => r != "shop/ses").Order());
        Assert.Equal((2, 1, 2), (index.CountFor("shop/ses"), index.CountFor("shop/other"), index.Count));
        Assert.Empty(index.Set("a", a));
        Assert.Equal(["shop/other", "shop/ses"], index.Set("b", null).Order());
        Assert.Equal((1, 0, 1), (index.CountFor("shop/ses"), index.CountFor("shop/other"), index.Count));
        Assert.Equal(["shop/ses"], index.Set("a", null));
        Assert.Equal(0, index.Count);
    }

    private static RouteResolver Resolver(string yaml) => new(new RouteIndex(RoutingTableYaml.Parse(yaml)), DefaultAction.Direct);
}
