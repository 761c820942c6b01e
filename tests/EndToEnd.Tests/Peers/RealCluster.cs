using System.Diagnostics;
using k8s;

namespace MailRelay.EndToEnd.Tests.Peers;

/// <summary>What a command-line tool printed and how it ended.</summary>
public sealed record ToolResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>
/// A real single-node cluster (scripts/real-cluster.sh: kubelet, containerd, CNI bridge, kube-proxy,
/// a control plane built by scripts/build-node.sh) with the project's images (scripts/build-images.sh)
/// imported; helm and kubectl from scripts/install-helm.sh. Started once per test class, torn down after
/// (every process, mount, rule and system path it made).
/// </summary>
public sealed class RealCluster : IAsyncLifetime
{
    public const string Gateway = "10.213.0.1";
    public const string PodCidr = "10.213.0.0/24";

    public string Dir { get; } = TestPaths.TempDir("real-cluster");

    public string Kubeconfig => Path.Combine(Dir, "kubeconfig");

    public IKubernetes Client { get; private set; } = null!;

    public static string ToolsDir => Environment.GetEnvironmentVariable("MAILRELAY_HELM_BIN")
        ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "mailrelay", "helm-tools", "bin");

    /// <summary>The last lines of every component's log (DIR/logs) and every container's (/var/log/pods), for failure messages.</summary>
    public string Logs(int tail = 30)
    {
        var files = (Directory.Exists(Path.Combine(Dir, "logs")) ? Directory.GetFiles(Path.Combine(Dir, "logs")) : [])
            .Concat(Directory.Exists("/var/log/pods") ? Directory.GetFiles("/var/log/pods", "*.log", SearchOption.AllDirectories) : []);
        return string.Join("\n", files.Select(f => $"== {f}\n" + string.Join("\n", File.ReadLines(f).TakeLast(tail))));
    }

    public async Task InitializeAsync()
    {
        int code;
        string output;
        try
        {
            (code, output) = await RunScriptAsync("up");
        }
        catch
        {
            await RunScriptAsync("down"); // `up` timed out: whatever it made goes, its lock with it
            throw;
        }

        if (code != 0)
        {
            await RunScriptAsync("down");
            throw new InvalidOperationException($"real-cluster.sh up failed:\n{output}\n{Logs()}");
        }

        Client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(Kubeconfig));
    }

    public async Task DisposeAsync()
    {
        Client?.Dispose();
        var (code, output) = await RunScriptAsync("down");
        Assert.True(code == 0, output);
    }

    /// <summary>A hostPath directory for a PersistentVolume, owned by the relay's user.</summary>
    public string PersistentVolumeDir(string name)
    {
        var dir = Path.Combine(Dir, "pv", name);
        Directory.CreateDirectory(dir);
        File.SetUnixFileMode(dir, (UnixFileMode)0x1C0); // 0700
        var chown = Process.Start("chown", ["10001:10001", dir])!;
        chown.WaitForExit();
        return dir;
    }

    public Task<ToolResult> KubectlAsync(params string[] args) => ToolAsync("kubectl", args, stdin: null);

    public Task<ToolResult> ApplyAsync(string yaml) => ToolAsync("kubectl", ["apply", "-f", "-"], yaml);

    public Task<ToolResult> HelmAsync(params string[] args) => ToolAsync("helm", args, stdin: null);

    /// <summary>Runs kubectl, helm or bash (a command line as a user types it: kubectl and helm on PATH) against this cluster; fails the test unless it succeeds.</summary>
    public async Task<ToolResult> ToolAsync(string tool, IEnumerable<string> args, string? stdin, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(tool == "bash" ? "/bin/bash" : Path.Combine(ToolsDir, tool))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        info.Environment["KUBECONFIG"] = Kubeconfig;
        info.Environment["PATH"] = ToolsDir + ":" + Environment.GetEnvironmentVariable("PATH");
        info.Environment["HELM_CONFIG_HOME"] = Path.Combine(Dir, "helm", "config");
        info.Environment["HELM_CACHE_HOME"] = Path.Combine(Dir, "helm", "cache");
        info.Environment["HELM_DATA_HOME"] = Path.Combine(Dir, "helm", "data");
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(4));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
        }

        var result = new ToolResult(process.HasExited ? process.ExitCode : -1, await stdout, await stderr);
        Assert.True(result.ExitCode == 0, $"{tool} {string.Join(' ', args)}: {result}");
        return result;
    }

    private Task<(int ExitCode, string Output)> RunScriptAsync(string verb) =>
        Scripts.ScriptRun.RunAsync(Scripts.ScriptRun.Script("real-cluster.sh"), [verb, Dir], timeout: TimeSpan.FromMinutes(25)); // `up` may wait up to 20 min for another run's cluster (the machine's lock)
}
