using MailRelay.Operator.DesiredState;
using MailRelay.Operator.Entities;
using MailRelay.Operator.Render;

namespace MailRelay.Operator.Tests.Render;

/// <summary>What render and explain read from files: our kinds, errors for what they cannot read (never skipped in silence).</summary>
public class ResourceFilesTests
{
    private const string Route = "apiVersion: mailrelay.io/v1alpha1\nkind: MailRoute\nmetadata: {name: r, namespace: shop}\nspec:\n  senders: [example.com]\n  direct: {}\n";

    [Theory]
    [InlineData("apiVersion: mailrelay.io/v1alpha1\nkind: MailRoutes\nmetadata: {name: typo}\n", "document 1 (mailrelay.io/v1alpha1 MailRoutes typo): unknown kind or version of mailrelay.io")]
    [InlineData("apiVersion: mailrelay.io/v1beta1\nkind: MailRoute\nmetadata: {name: future}\n", "document 1 (mailrelay.io/v1beta1 MailRoute future): unknown kind or version of mailrelay.io; this operator reads mailrelay.io/v1alpha1 MailRoute, RelayCredential, MailDomain")]
    [InlineData("apiVersion: mailrelay.io/v2\nkind: RoutingTable\n", "unknown kind or version of mailrelay.io")]
    public void A_kind_or_version_of_our_group_that_is_unknown_is_an_error_naming_the_file_and_document(string doc, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => ResourceFiles.Parse("routes/x.yaml", Route + "---\n" + doc));
        Assert.StartsWith("routes/x.yaml: document 2 ", e.Message);
        Assert.Contains(expected.Replace("document 1", "document 2"), e.Message);
    }

    [Theory]
    [InlineData("senders: [a\n  b: {", "routes/x.yaml: not YAML:")]
    [InlineData("just a sentence\n", "routes/x.yaml: document 1 (line 1) is not a Kubernetes object")]
    [InlineData("- a\n- b\n", "routes/x.yaml: document 1 (line 1) is not a Kubernetes object")]
    [InlineData("kind: MailRoute\nmetadata: {name: r}\n", "routes/x.yaml: document 1 (line 1) is not a Kubernetes object: it has no apiVersion")]
    [InlineData("apiVersion: mailrelay.io/v1alpha1\nmetadata: {name: r}\n", "it has no kind")]
    [InlineData("apiVersion: mailrelay.io/v1alpha1\nkind: MailRoute\nmetadata: {namespace: shop}\nspec: {senders: [a.com], direct: {}}\n", "routes/x.yaml: document 1 (mailrelay.io/v1alpha1 MailRoute): metadata.name is missing")]
    [InlineData("apiVersion: mailrelay.io/v1alpha1\nkind: MailRoute\nmetadata: {name: r}\nspec: {senders: [a.com], priority: high}\n", "routes/x.yaml: document 1 (mailrelay.io/v1alpha1 MailRoute r): ")]
    public void A_file_that_is_not_Kubernetes_YAML_is_an_error_naming_the_file(string text, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => ResourceFiles.Parse("routes/x.yaml", text));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Other_groups_kinds_comments_and_empty_documents_are_not_errors_and_a_List_is_read_item_by_item()
    {
        var text = "# a comment only\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 1}\n---\n" + Route + "---\n"
            + "apiVersion: v1\nkind: List\nitems:\n- apiVersion: mailrelay.io/v1alpha1\n  kind: RelayCredential\n  metadata: {name: c, namespace: shop}\n  spec: {secretRef: {name: s}}\n"
            + "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: cm}\n---\n";
        var objects = ResourceFiles.Parse("x.yaml", text);
        Assert.Collection(objects, o => Assert.Equal("r", Assert.IsType<MailRoute>(o).Metadata.Name), o => Assert.Equal("c", Assert.IsType<RelayCredential>(o).Metadata.Name));
    }

    [Fact]
    public void An_unknown_kind_inside_a_List_is_an_error_too()
    {
        var e = Assert.Throws<InvalidDataException>(() => ResourceFiles.Parse("x.yaml", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: mailrelay.io/v1alpha1\n  kind: MailRule\n  metadata: {name: m}\n"));
        Assert.Contains("x.yaml: document 1 item 1 (mailrelay.io/v1alpha1 MailRule m): unknown kind or version", e.Message);
    }

    [Fact]
    public void Load_names_the_file_of_the_error()
    {
        var dir = Directory.CreateTempSubdirectory("resource-files").FullName;
        File.WriteAllText(Path.Combine(dir, "a.yaml"), Route);
        File.WriteAllText(Path.Combine(dir, "b.yml"), "apiVersion: mailrelay.io/v1\nkind: MailRoute\nmetadata: {name: r2}\n");
        var e = Assert.Throws<InvalidDataException>(() => ResourceFiles.Load([dir], new HashSet<string> { "shop" }));
        Assert.StartsWith(Path.Combine(dir, "b.yml") + ": document 1 (mailrelay.io/v1 MailRoute r2): unknown kind or version", e.Message);
    }
}
