using MailRelay.Operator.DesiredState;
using MailRelay.Operator.Render;

namespace MailRelay.Operator.Tests.DesiredState;

/// <summary>docs/api.md: timestamps absent from files do not change the hash — render and the operator agree.</summary>
public class ConfigHashTests
{
    private static ClusterSnapshot Load(string metadataExtra)
    {
        var yaml = $"apiVersion: mailrelay.io/v1alpha1\nkind: MailRoute\nmetadata: {{name: r, namespace: shop{metadataExtra}}}\nspec: {{senders: [example.com], direct: {{}}}}\n";
        return ResourceFiles.Snapshot(ResourceFiles.Parse("x.yaml", yaml), new HashSet<string> { "shop" }, secretsElsewhere: false);
    }

    [Fact]
    public void A_creationTimestamp_set_by_the_API_server_does_not_change_the_hash_but_stays_in_the_table()
    {
        var fromFile = DesiredStateBuilder.Build(Load(string.Empty));
        var fromCluster = DesiredStateBuilder.Build(Load(", creationTimestamp: \"2026-11-27T10:00:00Z\", generation: 3, uid: 0b5e6c7e-1111-2222-3333-444455556666, resourceVersion: \"812\""));
        Assert.Equal(fromFile.ConfigHash, fromCluster.ConfigHash);
        Assert.Contains("created: 2026-11-27T10:00:00Z", fromCluster.RoutesYaml);
        Assert.DoesNotContain("created", fromFile.RoutesYaml); // unknown, not 1970
    }

    [Fact]
    public void What_the_files_say_still_changes_the_hash()
    {
        var a = DesiredStateBuilder.Build(Load(string.Empty));
        var b = DesiredStateBuilder.Build(Load(", labels: {team: x}"));
        Assert.Equal(a.ConfigHash, b.ConfigHash); // labels are not in the table
        var other = ResourceFiles.Snapshot(ResourceFiles.Parse("x.yaml", "apiVersion: mailrelay.io/v1alpha1\nkind: MailRoute\nmetadata: {name: r, namespace: shop}\nspec: {senders: [example.org], direct: {}}\n"), new HashSet<string> { "shop" }, false);
        Assert.NotEqual(a.ConfigHash, DesiredStateBuilder.Build(other).ConfigHash);
    }
}
