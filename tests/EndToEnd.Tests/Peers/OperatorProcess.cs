using System.Globalization;
using System.Text.RegularExpressions;

namespace MailRelay.EndToEnd.Tests.Peers;

/// <summary>The real operator program (src/Operator) run as a process against the test control plane.</summary>
public sealed class OperatorProcess : IDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(3) };
    private readonly PeerProcess _process;

    private OperatorProcess(PeerProcess process, int metricsPort)
    {
        _process = process;
        MetricsPort = metricsPort;
    }

    public int MetricsPort { get; }

    public string Log => _process.Output;

    public bool Running => _process.Running;

    /// <summary>Starts the operator; returns once /healthz answers.</summary>
    /// <param name="environment">more MAILRELAY_* variables (options given through their variables).</param>
    /// <param name="trustedNamespaces">--trusted-namespaces (comma-separated); null leaves the operator's default, its own namespace.</param>
    public static async Task<OperatorProcess> StartAsync(ControlPlane cluster, string @namespace, bool leaderElect = false, string resyncSeconds = "1", string? kubeconfig = null, string workload = "deployment/mail-relay", string watchTimeoutSeconds = "60", string? trustedNamespaces = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var env = new Dictionary<string, string> { ["MAILRELAY_RESYNC_PERIOD"] = resyncSeconds };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            env[name] = value;
        }

        if (trustedNamespaces is not null)
        {
            env["MAILRELAY_TRUSTED_NAMESPACES"] = trustedNamespaces; // through its variable, which the command line would override
        }

        var process = new PeerProcess("dotnet",
        [
            TestPaths.OperatorDll, "--kubeconfig", kubeconfig ?? cluster.Kubeconfig, "--namespace", @namespace,
            "--relay-workload", workload, "--leader-elect", leaderElect ? "true" : "false",
            "--metrics", "127.0.0.1:0", "--watch-timeout", watchTimeoutSeconds,
        ], env);
        try
        {
            var port = await ReportedPorts.ReadAsync(process, ReportedPorts.Http);
            var op = new OperatorProcess(process, port);
            await Eventually.UntilAsync("the operator's /healthz", () => op.StatusAsync("/healthz"), status => status == 200,
                TimeSpan.FromSeconds(30), () => "Operator log:\n" + process.Output, abandon: () => !process.Running);
            return op;
        }
        catch
        {
            process.Dispose();
            throw;
        }
    }

    /// <summary>The sum of a metric's samples (all label sets matching <paramref name="labelFilter"/>).</summary>
    public async Task<double> MetricAsync(string name, string labelFilter = "")
    {
        var text = await Http.GetStringAsync(new Uri($"http://127.0.0.1:{MetricsPort}/metrics"));
        return Regex.Matches(text, $@"^{Regex.Escape(name)}(\{{[^}}]*\}})?\s+(\S+)$", RegexOptions.Multiline)
            .Where(m => m.Groups[1].Value.Contains(labelFilter, StringComparison.Ordinal))
            .Sum(m => double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
    }

    /// <summary>GET a path on the metrics port: the status code.</summary>
    public async Task<int> StatusAsync(string path)
    {
        using var r = await Http.GetAsync(new Uri($"http://127.0.0.1:{MetricsPort}{path}"));
        return (int)r.StatusCode;
    }

    public void Kill() => _process.Dispose();

    /// <summary>SIGTERM; true when the operator exited by itself within <paramref name="grace"/>.</summary>
    public bool Stop(TimeSpan grace) => _process.Stop(grace);

    public void Dispose() => _process.Dispose();
}
