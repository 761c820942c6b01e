using MailRelay.EndToEnd.Tests.Peers;

namespace MailRelay.EndToEnd.Tests.Scripts;

/// <summary>
/// Issue 11's B1 bench run at a tiny size in the test command, so the script cannot rot: it must
/// relay every message through the relay and through Postfix and end with its BENCHROW lines. No
/// speed is asserted (figures live in bench/README.md, measured on a quiet machine).
/// </summary>
public sealed class BenchSmokeTests
{
    [Fact]
    public async Task The_B1_throughput_bench_at_a_tiny_size_delivers_every_message_through_both_systems_and_prints_its_rows()
    {
        var script = Path.Combine(TestPaths.RepoRoot, "bench", "throughput", "run.sh");
        var env = new Dictionary<string, string?>
        {
            ["MAILRELAY_BENCH_RELAY"] = "prebuilt", // the build the test command made; no ReadyToRun publish
            ["MAILRELAY_BENCH_TIMEOUT"] = "60",
        };

        var (code, output) = await ScriptRun.RunAsync(script, ["200", "5", "1024"], env, TimeSpan.FromSeconds(150));

        Assert.True(code == 0, output);
        Assert.Contains("relay delivered 200 of 200", output, StringComparison.Ordinal);
        Assert.Contains("postfix delivered 200 of 200", output, StringComparison.Ordinal);
        var rows = output.Split('\n').Where(l => l.StartsWith("BENCHROW | B1 | ", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, rows.Count);
        Assert.All(rows, r => Assert.EndsWith("| bash bench/throughput/run.sh 200 5 1024 |", r, StringComparison.Ordinal));
    }
}
