using k8s;
using MailRelay.Contracts.RoutingTable;
using MailRelay.Operator.DesiredState;
using MailRelay.Operator.Entities;

namespace MailRelay.Operator.Tests.DesiredState;

public class RouteSpecMapperTests
{
    private static MailRoute Load(string yaml) =>
        KubernetesYaml.LoadAllFromString(yaml, new Dictionary<string, Type> { [Api.GroupVersion + "/MailRoute"] = typeof(MailRoute) })
            .OfType<MailRoute>().Single();

    [Fact]
    public void An_SES_route_maps_to_a_relay_route_with_a_namespaced_credential()
    {
        var route = Load("""
            apiVersion: mailrelay.io/v1alpha1
            kind: MailRoute
            metadata: {name: example-com-via-ses, namespace: shop, creationTimestamp: "2026-11-01T09:00:00Z"}
            spec:
              senders: [example.com, "*.example.com"]
              relay: {host: email-smtp.eu-west-1.amazonaws.com, port: 587, tls: Verify, credentialRef: {name: ses}}
            """);

        var (mapped, errors) = RouteSpecMapper.Map(route);

        Assert.Empty(errors);
        Assert.NotNull(mapped);
        Assert.Equal("shop/example-com-via-ses", mapped.Name);
        Assert.Equal(new RelayTarget("email-smtp.eu-west-1.amazonaws.com", 587, TlsLevel.Verify, "shop.ses"), mapped.Relay);
        Assert.Equal(new DateTimeOffset(2026, 11, 1, 9, 0, 0, TimeSpan.Zero), mapped.Created);
    }

    [Fact]
    public void A_credential_over_an_unencrypted_connection_is_an_InvalidSpec_reason()
    {
        var route = Load("""
            apiVersion: mailrelay.io/v1alpha1
            kind: MailRoute
            metadata: {name: leaky, namespace: shop}
            spec:
              senders: [example.com]
              relay: {host: smtp.example.com, tls: Opportunistic, credentialRef: {name: ses}}
            """);

        var (mapped, errors) = RouteSpecMapper.Map(route);

        Assert.Null(mapped);
        Assert.Contains(errors, e => e.Contains("never sent over an unencrypted connection", StringComparison.Ordinal));
    }

    [Fact]
    public void Two_actions_and_bad_patterns_are_all_reported()
    {
        var route = Load("""
            apiVersion: mailrelay.io/v1alpha1
            kind: MailRoute
            metadata: {name: muddled, namespace: shop}
            spec:
              senders: ["ex*ample.com"]
              direct: {}
              reject: {message: no}
            """);

        var (mapped, errors) = RouteSpecMapper.Map(route);

        Assert.Null(mapped);
        Assert.Contains(errors, e => e.StartsWith("senders[0]", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("exactly one of relay, direct or reject", StringComparison.Ordinal));
    }
}
