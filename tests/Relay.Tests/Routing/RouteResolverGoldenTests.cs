using MailRelay.Contracts.Patterns;
using MailRelay.Contracts.Routing;
using MailRelay.Contracts.RoutingTable;

namespace MailRelay.Relay.Tests.Routing;

/// <summary>
/// Golden files: each folder under Routing/golden holds routes.yaml, queries.txt and the expected
/// explain output. Run with UPDATE_GOLDEN=1 to rewrite expected.txt in the source tree, then review the diff.
/// </summary>
public class RouteResolverGoldenTests
{
    public static TheoryData<string> Cases() => new(Directory.GetDirectories(Path.Combine(AppContext.BaseDirectory, "Routing", "golden")).Select(Path.GetFileName).OfType<string>().Order());

    [Theory]
    [MemberData(nameof(Cases))]
    public void Explain_output_matches_golden_file(string name)
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "Routing", "golden", name);
        var table = RoutingTableYaml.Parse(File.ReadAllText(Path.Combine(dir, "routes.yaml")));
        var resolver = new RouteResolver(new RouteIndex(table), DefaultAction.Direct);
        var output = new System.Text.StringBuilder();
        foreach (var line in File.ReadAllLines(Path.Combine(dir, "queries.txt")).Where(l => l.Length > 0 && !l.StartsWith('#')))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            output.Append("$ explain --from ").Append(parts[0]).Append(" --to ").AppendJoin(" --to ", parts[1..]).AppendLine();
            output.Append(ExplainReport.Format(resolver, EnvelopeAddress.Parse(parts[0]), parts[1..].Select(EnvelopeAddress.Parse).ToList()));
            output.AppendLine("----");
        }

        var expectedPath = Path.Combine(dir, "expected.txt");
        if (Environment.GetEnvironmentVariable("UPDATE_GOLDEN") == "1")
        {
            var source = Path.Combine(SourceDir(), "Routing", "golden", name, "expected.txt");
            File.WriteAllText(source, output.ToString());
            return;
        }

        Assert.True(File.Exists(expectedPath), $"no golden file {expectedPath}: run with UPDATE_GOLDEN=1");
        Assert.Equal(File.ReadAllText(expectedPath), output.ToString());
    }

    private static string SourceDir([System.Runtime.CompilerServices.CallerFilePath] string path = "") =>
        Path.GetDirectoryName(Path.GetDirectoryName(path))!;
}
