using System.Text;
using MailRelay.Contracts.RoutingTable;

namespace MailRelay.Contracts.Tests.RoutingTable;

/// <summary>
/// The pure splitter and joiner of routing tables too large for one ConfigMap (issue 11, B7). The golden
/// manifest pins the format the relay reads (run with UPDATE_GOLDEN=1 to rewrite it, then review the diff;
/// its part hashes depend on the runtime's gzip, which .NET bundles).
/// </summary>
public class RoutingTablePartsTests
{
    [Fact]
    public void A_table_that_fits_is_written_whole_and_unchanged()
    {
        var table = Table(3);
        var layout = RoutingTableParts.Split(table, "mail-relay-routes");
        Assert.False(layout.IsSplit);
        Assert.Same(table, layout.RoutesYaml);
        Assert.False(RoutingTableParts.IsManifest(table));
    }

    [Fact]
    public void A_large_table_splits_into_parts_that_join_to_the_same_bytes()
    {
        var table = Table(20_000); // ~4 MB: over the 1 MB inline limit, several parts of gzip
        Assert.True(Encoding.UTF8.GetByteCount(table) > RoutingTableParts.InlineLimit);
        var layout = RoutingTableParts.Split(table, "mail-relay-routes", partLimit: 100_000);

        Assert.True(layout.Parts.Count > 1);
        Assert.All(layout.Parts, p => Assert.True(p.Bytes.Length <= 100_000));
        Assert.Equal(Enumerable.Range(1, layout.Parts.Count).Select(i => $"mail-relay-routes-{i}"), layout.Parts.Select(p => p.ConfigMap));
        Assert.True(RoutingTableParts.IsManifest(layout.RoutesYaml));
        Assert.Equal(table, RoutingTableParts.Join(layout.RoutesYaml, Files(layout)));
        Assert.Equal(20_000, RoutingTableYaml.Parse(RoutingTableParts.Join(layout.RoutesYaml, Files(layout))).Routes.Count);
    }

    [Fact]
    public void The_manifest_matches_the_golden_file()
    {
        var layout = RoutingTableParts.Split(Table(4), "mail-relay-routes", inlineLimit: 100, partLimit: 200);
        var path = Path.Combine("RoutingTable", "golden", "split-manifest.yaml");
        if (Environment.GetEnvironmentVariable("UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(Path.Combine(SourceDir(), path), layout.RoutesYaml);
            return;
        }

        Assert.Equal(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, path)), layout.RoutesYaml);
    }

    [Fact]
    public void The_same_table_gives_byte_identical_parts()
    {
        var a = RoutingTableParts.Split(Table(5000), "t", inlineLimit: 1000, partLimit: 10_000);
        var b = RoutingTableParts.Split(Table(5000), "t", inlineLimit: 1000, partLimit: 10_000);
        Assert.Equal(a.RoutesYaml, b.RoutesYaml);
        Assert.Equal(a.Parts.Select(p => p.Sha256), b.Parts.Select(p => p.Sha256));
    }

    [Fact]
    public void A_part_of_another_version_is_refused_not_joined()
    {
        var old = RoutingTableParts.Split(Table(5000), "t", inlineLimit: 1000, partLimit: 10_000);
        var @new = RoutingTableParts.Split(Table(5000, "shop"), "t", inlineLimit: 1000, partLimit: 10_000);
        var files = Files(@new);

        // The new manifest with one part still the old one's: a volume caught between two versions.
        var mixed = new Func<string, byte[]>(f => f == RoutingTableParts.FileName(1) ? old.Parts[0].Bytes : files(f));
        var e = Assert.Throws<RoutingTablePartsException>(() => RoutingTableParts.Join(@new.RoutesYaml, mixed));
        Assert.Contains("routes-1.gz", e.Message, StringComparison.Ordinal);

        // The old manifest over the new parts.
        Assert.Throws<RoutingTablePartsException>(() => RoutingTableParts.Join(old.RoutesYaml, files));
    }

    [Fact]
    public void A_missing_part_is_refused()
    {
        var layout = RoutingTableParts.Split(Table(5000), "t", inlineLimit: 1000, partLimit: 10_000);
        var e = Assert.Throws<RoutingTablePartsException>(() => RoutingTableParts.Join(layout.RoutesYaml, f => f == RoutingTableParts.FileName(2) ? throw new FileNotFoundException(f) : Files(layout)(f)));
        Assert.Contains("routes-2.gz cannot be read", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("../etc/passwd")]
    [InlineData("/etc/passwd")]
    [InlineData("..data")]
    public void A_manifest_naming_a_path_is_refused(string file)
    {
        var manifest = "apiVersion: mailrelay.io/v1alpha1\nkind: RoutingTableParts\nencoding: gzip\nbytes: 1\nsha256: x\nparts:\n  - file: " + file + "\n    bytes: 1\n    sha256: x\n";
        Assert.Throws<RoutingTablePartsException>(() => RoutingTableParts.Join(manifest, _ => throw new InvalidOperationException("must not be read")));
    }

    private static Func<string, byte[]> Files(RoutingTableLayout layout) =>
        file => layout.Parts.SingleOrDefault(p => p.File == file)?.Bytes ?? throw new FileNotFoundException(file);

    /// <summary>A valid table of <paramref name="n"/> routes, each with two senders (as the B7 bench makes).</summary>
    private static string Table(int n, string ns = "ns")
    {
        var text = new StringBuilder("apiVersion: mailrelay.io/v1alpha1\nkind: RoutingTable\nroutes:\n");
        for (var i = 0; i < n; i++)
        {
            text.Append("  - name: ").Append(ns).Append("/route-").Append(i).Append("\n    created: \"2026-11-27T00:00:00Z\"\n    senders: [a").Append(i).Append(".example.com, b").Append(i).Append(".example.org]\n    direct: {}\n");
        }

        return RoutingTableYaml.Render(RoutingTableYaml.Parse(text.ToString()));
    }

    private static string SourceDir([System.Runtime.CompilerServices.CallerFilePath] string file = "") => Path.GetDirectoryName(Path.GetDirectoryName(file))!;
}
