using System.Text;
using MailRelay.Contracts.RoutingTable;
using MailRelay.Operator.DesiredState;
using MailRelay.Operator.Entities;
using MailRelay.Operator.Render;

namespace MailRelay.Operator.Tests.Render;

/// <summary>The routing table's ConfigMaps (issue 11, B7): one as always while it fits, parts beyond 1 MB, an error beyond --routes-max-parts.</summary>
public class RoutesConfigMapsTests
{
    [Fact]
    public void A_table_that_fits_is_one_ConfigMap_exactly_as_before()
    {
        var desired = Desired(10);
        var routes = RoutesConfigMaps.For(desired, "mail-relay-routes", "mail-relay", maxParts: 16);
        Assert.Null(routes.Error);
        Assert.Empty(routes.Parts);
        Assert.Equal(desired.RoutesYaml, Assert.Single(routes.Main.Data).Value);
        Assert.Null(routes.Main.BinaryData);
    }

    [Fact]
    public void A_table_over_1_MB_is_a_manifest_and_labelled_parts_that_join_to_the_table()
    {
        var desired = Desired(20_000);
        var routes = RoutesConfigMaps.For(desired, "mail-relay-routes", "mail-relay", maxParts: 16);
        Assert.Null(routes.Error);
        Assert.NotEmpty(routes.Parts);
        Assert.All(routes.Parts, p => Assert.Equal("mail-relay-routes", p.Metadata.Labels[RoutesConfigMaps.PartOfLabel]));
        var files = routes.Parts.SelectMany(p => p.BinaryData).ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Equal(desired.RoutesYaml, RoutingTableParts.Join(routes.Main.Data["routes.yaml"], f => files[f]));
    }

    [Fact]
    public void A_table_over_1_MB_cannot_be_written_with_no_parts_allowed()
    {
        var routes = RoutesConfigMaps.For(Desired(20_000), "mail-relay-routes", "mail-relay", maxParts: 0);
        Assert.Contains("--routes-max-parts is 0", routes.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void While_the_table_cannot_be_written_an_accepted_route_is_TableNotWritten_naming_the_hash_in_force()
    {
        var verdict = new Verdict("shop", "r", 3, true, ConditionReasons.Accepted, "ok", "direct");
        var status = StatusPolicy.Route(verdict, "sha256:new", new RelayWorkload("statefulset", "mail-relay", "mail-relay", true, "too large", "sha256:old"));
        Assert.Equal((false, ConditionReasons.TableNotWritten), (status.Programmed.Ok, status.Programmed.Reason));
        Assert.Contains("too large", status.Programmed.Message, StringComparison.Ordinal);
        Assert.Contains("sha256:old", status.Programmed.Message, StringComparison.Ordinal);
        Assert.Null(status.ConfigHash);
        var rejected = StatusPolicy.Route(verdict with { Ok = false, Reason = ConditionReasons.InvalidSpec }, "sha256:new", new RelayWorkload("statefulset", "mail-relay", "mail-relay", true, "too large", "sha256:old"));
        Assert.Equal(ConditionReasons.NotAccepted, rejected.Programmed.Reason);
    }

    /// <summary>A table of two-sender routes.</summary>
    private static DesiredRelayConfig Desired(int routes)
    {
        var text = new StringBuilder("apiVersion: mailrelay.io/v1alpha1\nkind: RoutingTable\nroutes:\n");
        for (var i = 0; i < routes; i++)
        {
            text.Append("  - name: shop/r").Append(i).Append("\n    created: \"2026-11-27T00:00:00Z\"\n    senders: [r").Append(i).Append(".example.com, \"*.r").Append(i).Append(".example.org\"]\n    direct: {}\n");
        }

        var yaml = RoutingTableYaml.Render(RoutingTableYaml.Parse(text.ToString()));
        return new DesiredRelayConfig(yaml, new Dictionary<string, byte[]>(), "sha256:x", [], []);
    }
}
