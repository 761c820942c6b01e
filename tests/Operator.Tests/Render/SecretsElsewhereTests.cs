using System.Text;
using MailRelay.Operator.DesiredState;
using MailRelay.Operator.Entities;
using MailRelay.Operator.Render;

namespace MailRelay.Operator.Tests.Render;

/// <summary>A credential whose Secret is not among the files (SealedSecrets, External Secrets): external for render, not found for the operator.</summary>
public class SecretsElsewhereTests
{
    private const string Resources = """
        apiVersion: mailrelay.io/v1alpha1
        kind: RelayCredential
        metadata: {name: ses, namespace: shop}
        spec: {secretRef: {name: ses-smtp}}
        ---
        apiVersion: mailrelay.io/v1alpha1
        kind: MailRoute
        metadata: {name: via-ses, namespace: shop}
        spec:
          senders: [example.com]
          relay: {host: smtp.example.net, credentialRef: {name: ses}}
        """;

    private static ClusterSnapshot Snapshot(bool secretsElsewhere, string extra = "") =>
        ResourceFiles.Snapshot(ResourceFiles.Parse("x.yaml", Resources + extra), new HashSet<string> { "shop" }, secretsElsewhere);

    [Fact]
    public void Among_files_the_credential_is_external_and_its_route_programmed_as_if_the_Secret_were_present()
    {
        var desired = DesiredStateBuilder.Build(Snapshot(secretsElsewhere: true));
        var credential = Assert.Single(desired.Credentials);
        Assert.True(credential.Ok);
        Assert.Equal(ConditionReasons.SecretExternal, credential.Reason);
        Assert.Contains("Secret shop/ses-smtp is not among the files", credential.Message);
        var route = Assert.Single(desired.Routes);
        Assert.Equal((true, ConditionReasons.Accepted), (route.Ok, route.Reason));
        Assert.Contains("credential: shop.ses", desired.RoutesYaml);
        Assert.Empty(desired.SecretData);
        Assert.Equal("shop/ses-smtp", desired.ExternalCredentials["shop.ses"]);

        var output = RenderOutput.Format(desired, "c", "s", "n", showSecrets: false);
        Assert.Contains("# external: shop.ses.username and shop.ses.password from Secret shop/ses-smtp, not among the files", output);
        Assert.Contains("(without the values of the external credentials", output);
        Assert.Contains("# external: shop.ses.username", RenderOutput.Format(desired, "c", "s", "n", showSecrets: true));
    }

    [Fact]
    public void In_a_cluster_or_with_require_secrets_the_Secret_does_not_exist_and_the_route_is_held()
    {
        var desired = DesiredStateBuilder.Build(Snapshot(secretsElsewhere: false));
        Assert.Equal((false, ConditionReasons.SecretNotFound), (desired.Credentials[0].Ok, desired.Credentials[0].Reason));
        Assert.Equal((false, ConditionReasons.CredentialNotFound), (desired.Routes[0].Ok, desired.Routes[0].Reason));
        Assert.Contains("via-ses", desired.RoutesYaml); // held, not left out (fail closed)
        Assert.Contains("hold:", desired.RoutesYaml);
        Assert.Empty(desired.ExternalCredentials);
    }

    [Fact]
    public void A_Secret_among_the_files_is_used_whatever_the_setting_and_a_missing_key_stays_an_error()
    {
        const string secret = "\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: ses-smtp, namespace: shop}\nstringData: {username: u, password: p}\n";
        var a = DesiredStateBuilder.Build(Snapshot(true, secret));
        var b = DesiredStateBuilder.Build(Snapshot(false, secret));
        Assert.Equal(a.ConfigHash, b.ConfigHash);
        Assert.Equal("p", Encoding.UTF8.GetString(a.SecretData["shop.ses.password"]));
        Assert.Empty(a.ExternalCredentials);

        var keyMissing = DesiredStateBuilder.Build(Snapshot(true, "\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: ses-smtp, namespace: shop}\nstringData: {username: u}\n"));
        Assert.Equal(ConditionReasons.KeyMissing, keyMissing.Credentials[0].Reason);
        Assert.False(keyMissing.Routes[0].Ok);
    }
}
