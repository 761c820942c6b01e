using System.Text;
using MailRelay.Contracts.RoutingTable;
using MailRelay.Relay.Cli;
using MailRelay.Relay.Config;
using Microsoft.Extensions.Logging.Abstractions;

namespace MailRelay.Relay.Tests.Config;

/// <summary>
/// The relay reading a split routing table (issue 11, B7) from one directory, as the kubelet's projected
/// volume holds it: joined and loaded whole; parts that disagree with the manifest (a volume caught
/// between two versions) leave the last good table in force and are retried at the next reload.
/// </summary>
public sealed class SplitTableStoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("split-table").FullName;

    [Fact]
    public void A_split_table_is_joined_and_parts_from_another_version_keep_the_last_good_one()
    {
        var routesDir = Path.Combine(_dir, "routes");
        Directory.CreateDirectory(routesDir);
        var store = new RelayConfigStore(Options(routesDir), NullLogger<RelayConfigStore>.Instance);
        var first = RoutingTableParts.Split(Table(3000, "a"), "mail-relay-routes", inlineLimit: 1000, partLimit: 8000);
        Write(routesDir, first);

        Assert.True(store.Reload());
        Assert.Equal(3000, store.Current!.Table.Routes.Count);

        // The new manifest arrives with one part still of the old version: refused, the old table stays.
        var second = RoutingTableParts.Split(Table(3500, "b"), "mail-relay-routes", inlineLimit: 1000, partLimit: 8000);
        Assert.True(second.Parts.Count > 2);
        Write(routesDir, second);
        File.WriteAllBytes(Path.Combine(routesDir, second.Parts[1].File), first.Parts[1].Bytes);
        Assert.False(store.Reload());
        Assert.Equal(3000, store.Current!.Table.Routes.Count);
        Assert.Contains("does not join", store.LastError, StringComparison.Ordinal);

        // The volume becomes whole: the same manifest is tried again and loads.
        Write(routesDir, second);
        Assert.True(store.Reload());
        Assert.Equal(3500, store.Current!.Table.Routes.Count);
        Assert.Null(store.LastError);
        Assert.False(store.Reload()); // unchanged: nothing to do
    }

    [Fact]
    public void Explain_reads_a_split_table_like_the_relay()
    {
        var layout = RoutingTableParts.Split(Table(2000, "c"), "mail-relay-routes", inlineLimit: 1000, partLimit: 8000);
        Write(_dir, layout);
        Assert.Equal(2000, RoutingTableYaml.Parse(RelayConfigLoader.ReadTable(Path.Combine(_dir, "routes.yaml"))).Routes.Count);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static void Write(string dir, RoutingTableLayout layout)
    {
        foreach (var part in layout.Parts)
        {
            File.WriteAllBytes(Path.Combine(dir, part.File), part.Bytes);
        }

        File.WriteAllText(Path.Combine(dir, "routes.yaml"), layout.RoutesYaml);
    }

    private RelayOptions Options(string routesDir) => RelayCommandLine.Bind(name => name switch
    {
        "--routes" => Path.Combine(routesDir, "routes.yaml"),
        "--credentials" => Path.Combine(_dir, "credentials"),
        "--spool" => Path.Combine(_dir, "spool"),
        "--allowed-networks" => "127.0.0.1/32",
        _ => null,
    });

    private static string Table(int n, string ns)
    {
        var text = new StringBuilder("apiVersion: mailrelay.io/v1alpha1\nkind: RoutingTable\nroutes:\n");
        for (var i = 0; i < n; i++)
        {
            text.Append("  - name: ").Append(ns).Append("/route-").Append(i).Append("\n    senders: [a").Append(i).Append('.').Append(ns).Append(".example.com]\n    direct: {}\n");
        }

        return text.ToString();
    }
}
