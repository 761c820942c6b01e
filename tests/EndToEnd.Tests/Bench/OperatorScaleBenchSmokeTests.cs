using System.Text.RegularExpressions;
using MailRelay.EndToEnd.Tests.Peers;
using MailRelay.EndToEnd.Tests.Scripts;

namespace MailRelay.EndToEnd.Tests.Bench;

/// <summary>
/// Keeps bench/operator-scale/run.sh (issue 11, B7/B8) from rotting: run at a tiny size (200 routes in 10
/// namespaces, 10 s idle, 100 unrelated Secrets), it must print its BENCHROW lines with the table programmed. No speed
/// is asserted: the figures belong to bench/README.md, measured on a quiet machine.
/// </summary>
public sealed class OperatorScaleBenchSmokeTests
{
    [Fact]
    public async Task The_B7_B8_script_programs_a_small_table_and_prints_its_rows()
    {
        var (exit, output) = await ScriptRun.RunAsync(Path.Combine(TestPaths.RepoRoot, "bench", "operator-scale", "run.sh"),
            ["--rows", "200:10", "--idle", "10", "--b8-routes", "200", "--b8-secrets", "100"], timeout: TimeSpan.FromMinutes(4));

        Assert.True(exit == 0, output);
        var b7 = Regex.Matches(output, @"^BENCHROW \| B7 \| (.*?) \| (.*?) \| (.*?) \| (.*?) \| (.*?) \|$", RegexOptions.Multiline);
        var b8 = Regex.Matches(output, @"^BENCHROW \| B8 \| (.*?) \| (.*?) \| (.*?) \| (.*?) \| (.*?) \|$", RegexOptions.Multiline);
        Assert.Single(b7);
        Assert.Equal(2, b8.Count);
        Assert.All(b7, row => Assert.Matches(@"^\d+(\.\d+)? s$", row.Groups[2].Value)); // a time, not "never": all 200 routes reached the ConfigMap
        Assert.All(b7, row => Assert.DoesNotContain("statuses all current after never", row.Groups[1].Value, StringComparison.Ordinal));
        Assert.Contains("200 routes in 10 namespace(s)", output, StringComparison.Ordinal);
        Assert.All(b8, row => Assert.StartsWith("bash bench/operator-scale/run.sh", row.Groups[5].Value, StringComparison.Ordinal));
    }
}
