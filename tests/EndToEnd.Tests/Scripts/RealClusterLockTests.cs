using System.Diagnostics;
using MailRelay.EndToEnd.Tests.Peers;

namespace MailRelay.EndToEnd.Tests.Scripts;

/// <summary>
/// scripts/real-cluster.sh sets up machine-wide things (the mrbr0 bridge, sysctls, kube-proxy's
/// KUBE-* chains, system paths): two runs at once (two CI clones on one machine) tore down each
/// other's cluster. `up` now waits while another process holds the abstract socket it binds as its
/// lock, and a `down` of a DIR that never got it touches nothing.
/// </summary>
public sealed class RealClusterLockTests
{
    [Fact]
    public async Task Up_waits_for_the_machines_cluster_lock_and_a_down_without_it_touches_nothing()
    {
        var dir = TestPaths.TempDir("cluster-lock");
        var lockName = "mailrelay-lock-test-" + Guid.NewGuid().ToString("N");
        using var holder = Process.Start(new ProcessStartInfo("python3",
            ["-c", "import signal, socket, sys\ns = socket.socket(socket.AF_UNIX)\ns.bind('\\0' + sys.argv[1])\nprint('held', flush=True)\nsignal.pause()", lockName])
        { UseShellExecute = false, RedirectStandardOutput = true })!;
        try
        {
            Assert.Equal("held", await holder.StandardOutput.ReadLineAsync());
            var env = new Dictionary<string, string?>
            {
                ["MAILRELAY_CLUSTER_LOCK"] = lockName,
                ["MAILRELAY_CLUSTER_LOCK_WAIT"] = "2",
                ["MAILRELAY_CLUSTER_BRIDGE"] = "mrlock0",
            };
            var clusterDir = Path.Combine(dir, "cluster");

            var started = Stopwatch.StartNew();
            var (upCode, upOutput) = await ScriptRun.RunAsync(ScriptRun.Script("real-cluster.sh"), ["up", clusterDir], env, TimeSpan.FromSeconds(60));

            Assert.True(upCode != 0, upOutput);
            Assert.Contains("waiting up to 2 s", upOutput, StringComparison.Ordinal);
            Assert.Contains("still holds", upOutput, StringComparison.Ordinal);
            Assert.True(started.Elapsed >= TimeSpan.FromSeconds(2), $"gave up after {started.Elapsed}");
            Assert.False(File.Exists(Path.Combine(clusterDir, "pids")), "up went on without the lock");
            Assert.False(Directory.Exists("/sys/class/net/mrlock0"), "up made its bridge without the lock");

            var (downCode, downOutput) = await ScriptRun.RunAsync(ScriptRun.Script("real-cluster.sh"), ["down", clusterDir], env, TimeSpan.FromSeconds(60));

            Assert.True(downCode == 0, downOutput);
            Assert.Contains("no cluster was up", downOutput, StringComparison.Ordinal);
        }
        finally
        {
            holder.Kill(entireProcessTree: true);
        }
    }
}
