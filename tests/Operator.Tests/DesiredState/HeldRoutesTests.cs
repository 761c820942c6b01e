using MailRelay.Contracts.RoutingTable;
using MailRelay.Operator.DesiredState;
using MailRelay.Operator.Entities;

namespace MailRelay.Operator.Tests.DesiredState;

/// <summary>
/// Fail closed (docs/api.md "held routes"): a route whose credential is missing or incomplete keeps
/// its place in the routing table with the hold action, never leaves it for the default action.
/// </summary>
public class HeldRoutesTests
{
    private const string Resources = """
        apiVersion: mailrelay.io/v1alpha1
        kind: MailRoute
        metadata: {name: example-com-via-ses, namespace: shop, generation: 3, creationTimestamp: "2026-11-01T09:00:00Z"}
        spec:
          senders: [example.com]
          relay: {host: email-smtp.eu-west-1.amazonaws.com, credentialRef: {name: ses}}
        ---
        apiVersion: mailrelay.io/v1alpha1
        kind: RelayCredential
        metadata: {name: ses, namespace: shop, generation: 1}
        spec:
          secretRef: {name: ses-smtp}
        """;

    private const string SesSecret = """
        ---
        apiVersion: v1
        kind: Secret
        metadata: {name: ses-smtp, namespace: shop}
        stringData: {username: AKIAHELD, password: held-password}
        """;

    [Theory]
    [InlineData("secret deleted", Resources, "CredentialNotFound", "SecretNotFound")]
    [InlineData("key missing", Resources + "\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: ses-smtp, namespace: shop}\nstringData: {username: AKIAHELD}\n", "CredentialNotReady", "KeyMissing")]
    [InlineData("RelayCredential missing", "apiVersion: mailrelay.io/v1alpha1\nkind: MailRoute\nmetadata: {name: example-com-via-ses, namespace: shop, generation: 3, creationTimestamp: \"2026-11-01T09:00:00Z\"}\nspec:\n  senders: [example.com]\n  relay: {host: email-smtp.eu-west-1.amazonaws.com, credentialRef: {name: ses}}\n", "CredentialNotFound", "does not exist")]
    public void A_route_whose_credential_is_missing_stays_in_the_table_as_hold(string why, string yaml, string reason, string detail)
    {
        var desired = DesiredStateBuilder.Build(Snapshot(yaml));

        var table = RoutingTableYaml.Parse(desired.RoutesYaml);
        var route = Assert.Single(table.Routes);
        Assert.Equal("shop/example-com-via-ses", route.Name);
        Assert.Equal(RouteAction.Hold, route.Action);
        Assert.Null(route.Relay);
        Assert.StartsWith(reason + ": ", route.HoldReason, StringComparison.Ordinal);
        Assert.Contains(detail, route.HoldReason, StringComparison.Ordinal);
        Assert.Empty(desired.SecretData);
        Assert.DoesNotContain("AKIAHELD", desired.RoutesYaml, StringComparison.Ordinal);

        var verdict = Assert.Single(desired.Routes);
        Assert.False(verdict.Ok, why);
        Assert.Equal(reason, verdict.Reason);
        Assert.Equal(route.HoldReason, verdict.HoldReason);
        Assert.Contains("held", verdict.Message, StringComparison.Ordinal);

        var status = StatusPolicy.Route(verdict, desired.ConfigHash, new RelayWorkload("deployment", "mail-relay", "mail-relay", Exists: true));
        Assert.Equal((false, reason), (status.Accepted.Ok, status.Accepted.Reason));
        Assert.Equal((true, ConditionReasons.Held), (status.Programmed.Ok, status.Programmed.Reason));
        Assert.Equal(desired.ConfigHash, status.ConfigHash);
        Assert.Equal(route.ActionText, status.Action);
    }

    [Fact]
    public void The_credential_coming_back_turns_the_held_route_into_its_relay_route_again()
    {
        var held = DesiredStateBuilder.Build(Snapshot(Resources));
        var back = DesiredStateBuilder.Build(Snapshot(Resources + "\n" + SesSecret));

        var route = Assert.Single(RoutingTableYaml.Parse(back.RoutesYaml).Routes);
        Assert.Equal(RouteAction.Relay, route.Action);
        Assert.Equal("shop.ses", route.Relay!.Credential);
        Assert.NotEqual(held.ConfigHash, back.ConfigHash);
        var status = StatusPolicy.Route(back.Routes[0], back.ConfigHash, new RelayWorkload("deployment", "mail-relay", "mail-relay", Exists: true));
        Assert.Equal((true, ConditionReasons.Programmed), (status.Programmed.Ok, status.Programmed.Reason));
    }

    [Fact]
    public void A_held_route_keeps_its_claim_a_newer_route_with_the_same_senders_is_Conflicted()
    {
        var newer = "\n---\napiVersion: mailrelay.io/v1alpha1\nkind: MailRoute\nmetadata: {name: grab, namespace: shop, generation: 1, creationTimestamp: \"2026-11-02T09:00:00Z\"}\nspec:\n  senders: [example.com]\n  direct: {}\n";

        var desired = DesiredStateBuilder.Build(Snapshot(Resources + newer));

        var route = Assert.Single(RoutingTableYaml.Parse(desired.RoutesYaml).Routes);
        Assert.Equal(("shop/example-com-via-ses", RouteAction.Hold), (route.Name, route.Action));
        var grab = desired.Routes.Single(v => v.Name == "grab");
        Assert.Equal(ConditionReasons.Conflicted, grab.Reason);
        Assert.Null(grab.HoldReason);
    }

    [Fact]
    public void A_Conflicted_route_whose_credential_is_missing_is_left_out_not_held()
    {
        var older = "\n---\napiVersion: mailrelay.io/v1alpha1\nkind: MailRoute\nmetadata: {name: first, namespace: shop, generation: 1, creationTimestamp: \"2026-10-01T09:00:00Z\"}\nspec:\n  senders: [example.com]\n  direct: {}\n";

        var desired = DesiredStateBuilder.Build(Snapshot(Resources + older));

        var route = Assert.Single(RoutingTableYaml.Parse(desired.RoutesYaml).Routes);
        Assert.Equal(("shop/first", RouteAction.Direct), (route.Name, route.Action));
        var ses = desired.Routes.Single(v => v.Name == "example-com-via-ses");
        Assert.Equal(ConditionReasons.Conflicted, ses.Reason);
        var status = StatusPolicy.Route(ses, desired.ConfigHash, new RelayWorkload("deployment", "mail-relay", "mail-relay", Exists: true));
        Assert.Equal((false, ConditionReasons.NotAccepted), (status.Programmed.Ok, status.Programmed.Reason));
    }

    [Fact]
    public void A_NotPermitted_route_whose_credential_is_missing_is_left_out_not_held()
    {
        var desired = DesiredStateBuilder.Build(Snapshot(Resources, trusted: "ops"));

        Assert.Empty(RoutingTableYaml.Parse(desired.RoutesYaml).Routes);
        var verdict = Assert.Single(desired.Routes);
        Assert.Equal(ConditionReasons.NotPermitted, verdict.Reason);
        Assert.Null(verdict.HoldReason);
    }

    [Fact]
    public void Without_the_relay_workload_a_held_route_is_not_programmed()
    {
        var desired = DesiredStateBuilder.Build(Snapshot(Resources));

        var status = StatusPolicy.Route(desired.Routes[0], desired.ConfigHash, new RelayWorkload("deployment", "mail-relay", "mail-relay", Exists: false));

        Assert.Equal((false, ConditionReasons.RelayWorkloadNotFound), (status.Programmed.Ok, status.Programmed.Reason));
        Assert.Null(status.ConfigHash);
    }

    private static ClusterSnapshot Snapshot(string yaml, string trusted = "shop")
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("held").FullName, "resources.yaml");
        File.WriteAllText(file, yaml);
        return MailRelay.Operator.Render.ResourceFiles.Load([file], new HashSet<string>(StringComparer.Ordinal) { trusted }); // shop trusted: no MailDomain needed
    }
}
