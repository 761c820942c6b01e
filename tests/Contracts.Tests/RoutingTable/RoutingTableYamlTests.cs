using MailRelay.Contracts.RoutingTable;

namespace MailRelay.Contracts.Tests.RoutingTable;

public class RoutingTableYamlTests
{
    private const string Valid = """
        apiVersion: mailrelay.io/v1alpha1
        kind: RoutingTable
        routes:
          - name: shop/ses
            created: "2026-11-01T09:00:00Z"
            senders: [Example.com, "*.example.com"]
            relay: {host: Email-SMTP.eu-west-1.amazonaws.com, credential: shop.ses}
          - name: shop/block
            priority: 5
            senders: [spam.example]
            recipients: ["*"]
            reject: {}
          - name: ops/direct
            senders: ["<>"]
            direct: {}
        """;

    [Fact]
    public void Parses_routes_with_defaults()
    {
        var table = RoutingTableYaml.Parse(Valid);
        Assert.Equal(3, table.Routes.Count);
        var ses = table.Routes[0];
        Assert.Equal(RouteAction.Relay, ses.Action);
        Assert.Equal(new RelayTarget("email-smtp.eu-west-1.amazonaws.com", 587, TlsLevel.Verify, "shop.ses"), ses.Relay);
        Assert.Equal(["example.com", "*.example.com"], ses.Senders.Select(s => s.ToString()));
        Assert.Equal(new DateTimeOffset(2026, 11, 1, 9, 0, 0, TimeSpan.Zero), ses.Created);
        Assert.Equal(Route.DefaultRejectMessage, table.Routes[1].RejectMessage);
        Assert.Equal(RouteAction.Direct, table.Routes[2].Action);
        Assert.Equal(["shop.ses"], table.CredentialNames);
    }

    [Fact]
    public void Recipients_per_upstream_transaction_default_to_50_and_round_trip_when_set()
    {
        var table = RoutingTableYaml.Parse("routes:\n  - name: ns/ses\n    senders: [a.com]\n    relay: {host: h, maxRecipients: 20}\n  - name: ns/other\n    senders: [b.com]\n    relay: {host: h}\n");

        Assert.Equal([20, 50], table.Routes.Select(r => r.Relay!.RecipientsPerTransaction));
        var again = RoutingTableYaml.Parse(RoutingTableYaml.Render(table));
        Assert.Equal([20, null], again.Routes.OrderByDescending(r => r.Name, StringComparer.Ordinal).Select(r => r.Relay!.MaxRecipients));
    }

    [Fact]
    public void Render_is_deterministic_and_round_trips()
    {
        var table = RoutingTableYaml.Parse(Valid);
        var rendered = RoutingTableYaml.Render(table);
        var reversed = new MailRelay.Contracts.RoutingTable.RoutingTable(table.Routes.Reverse().ToList());
        Assert.Equal(rendered, RoutingTableYaml.Render(reversed));
        Assert.Equal(rendered, RoutingTableYaml.Render(RoutingTableYaml.Parse(rendered)));
        Assert.StartsWith("#", rendered);
        Assert.True(rendered.IndexOf("ops/direct", StringComparison.Ordinal) < rendered.IndexOf("shop/block", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("senders: []\n    direct: {}", "senders: at least one pattern is required")]
    [InlineData("senders: [a.com]", "exactly one of relay, direct or reject must be set (0 are)")]
    [InlineData("senders: [a.com]\n    direct: {}\n    reject: {}", "exactly one of relay, direct or reject must be set (2 are)")]
    [InlineData("senders: [a.com]\n    direct: {}\n    hold: {reason: r}", "exactly one of relay, direct or reject (or hold) must be set (2 are)")]
    [InlineData("senders: [a.com]\n    priority: 1001\n    direct: {}", "priority 1001 is outside -1000..1000")]
    [InlineData("senders: [a.com]\n    relay: {host: h, port: 0}", "relay.port 0 is outside 1..65535")]
    [InlineData("senders: [a.com]\n    relay: {host: h, tls: verify}", "relay.tls 'verify' is not one of")]
    [InlineData("senders: [a.com]\n    relay: {host: h, maxRecipients: 0}", "relay.maxRecipients 0 is outside 1..1000")]
    [InlineData("senders: [a.com]\n    relay: {host: h, maxRecipients: 1001}", "relay.maxRecipients 1001 is outside 1..1000")]
    [InlineData("senders: [a.com]\n    relay: {host: h, tls: Opportunistic, credential: c}", "credentials are never sent over an unencrypted connection")]
    [InlineData("senders: [a.com]\n    relay: {host: h, tls: None, credential: c}", "credentials are never sent over an unencrypted connection")]
    [InlineData("senders: [a.com]\n    recipients: [\"<>\"]\n    direct: {}", "recipients[0]: '<>' (the null sender) is only valid as a sender pattern")]
    [InlineData("senders: [\"a*b.com\"]\n    direct: {}", "senders[0]:")]
    public void Invalid_routes_are_reported_with_their_place(string body, string expected)
    {
        var yaml = $"routes:\n  - name: ns/r\n    {body}\n";
        var e = Assert.Throws<RoutingTableException>(() => RoutingTableYaml.Parse(yaml));
        Assert.Contains(e.Errors, m => m.StartsWith("routes[0] (ns/r): ", StringComparison.Ordinal) && m.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void A_hold_route_parses_renders_deterministically_and_round_trips_with_its_reason_on_one_line()
    {
        var table = RoutingTableYaml.Parse("""
            routes:
              - name: shop/ses
                created: "2026-11-01T09:00:00Z"
                senders: [example.com]
                hold: {reason: "CredentialNotFound:\n  RelayCredential shop/ses does not exist"}
              - name: shop/bare
                senders: [bare.example]
                hold: {}
            """);

        var held = table.Routes[0];
        Assert.Equal(RouteAction.Hold, held.Action);
        Assert.Null(held.Relay);
        Assert.Equal("CredentialNotFound: RelayCredential shop/ses does not exist", held.HoldReason);
        Assert.Equal("held: CredentialNotFound: RelayCredential shop/ses does not exist", held.ActionText);
        Assert.Equal("held: " + Route.DefaultHoldReason, table.Routes[1].HeldText);
        Assert.Empty(table.CredentialNames);

        var rendered = RoutingTableYaml.Render(table);
        Assert.Contains("    hold:\n      reason: 'CredentialNotFound: RelayCredential shop/ses does not exist'\n", rendered);
        Assert.Equal(rendered, RoutingTableYaml.Render(RoutingTableYaml.Parse(rendered)));
        Assert.Equal(rendered, RoutingTableYaml.Render(new MailRelay.Contracts.RoutingTable.RoutingTable(table.Routes.Reverse().ToList())));
    }

    [Fact]
    public void A_relay_route_held_keeps_its_claim_and_drops_its_upstream()
    {
        var ses = RoutingTableYaml.Parse(Valid).Routes[0];

        var held = ses.AsHeld("credential missing\n");

        Assert.Equal((ses.Name, ses.Priority, ses.Created), (held.Name, held.Priority, held.Created));
        Assert.Equal(ses.Senders, held.Senders);
        Assert.Equal(ses.Recipients, held.Recipients);
        Assert.Equal((RouteAction.Hold, (RelayTarget?)null, "credential missing"), (held.Action, held.Relay, held.HoldReason));
    }

    [Fact]
    public void Unknown_fields_and_broken_yaml_are_errors()
    {
        Assert.Throws<RoutingTableException>(() => RoutingTableYaml.Parse("routes:\n  - name: a/b\n    sendrs: [a.com]\n    direct: {}\n"));
        Assert.Throws<RoutingTableException>(() => RoutingTableYaml.Parse("routes: [\n"));
        Assert.Throws<RoutingTableException>(() => RoutingTableYaml.Parse(""));
    }

    [Fact]
    public void Duplicate_route_names_are_errors()
    {
        var e = Assert.Throws<RoutingTableException>(() => RoutingTableYaml.Parse(
            "routes:\n  - {name: a/b, senders: [a.com], direct: {}}\n  - {name: a/b, senders: [b.com], direct: {}}\n"));
        Assert.Contains(e.Errors, m => m.Contains("used by an earlier route", StringComparison.Ordinal));
    }
}
