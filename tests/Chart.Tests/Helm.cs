using System.Diagnostics;

namespace MailRelay.Chart.Tests;

/// <summary>What a helm command printed and how it ended.</summary>
public sealed record HelmResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>
/// The real helm (Helm 4, installed by scripts/install-helm.sh into ~/.cache/mailrelay/helm-tools/bin,
/// or MAILRELAY_HELM_BIN) run on charts/mail-relay-operator, with its own empty config and cache.
/// </summary>
public static class Helm
{
    public const string Release = "mail-relay";
    public const string Namespace = "mail-relay";

    public static string RepoRoot { get; } = FindRoot();

    public static string ChartDir => Path.Combine(RepoRoot, "charts", "mail-relay-operator");

    public static string Binary
    {
        get
        {
            var dir = Environment.GetEnvironmentVariable("MAILRELAY_HELM_BIN");
            if (string.IsNullOrEmpty(dir))
            {
                dir = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "mailrelay", "helm-tools", "bin");
            }

            return Path.Combine(dir, "helm");
        }
    }

    /// <summary>A values file kept beside the tests (tests/Chart.Tests/values).</summary>
    public static string ValuesFile(string name) => Path.Combine(AppContext.BaseDirectory, "values", name);

    public static HelmResult Run(params string[] args)
    {
        if (!File.Exists(Binary))
        {
            throw new InvalidOperationException($"{Binary} not found: run bash scripts/install-helm.sh (or set MAILRELAY_HELM_BIN)");
        }

        var home = Path.Combine(Path.GetTempPath(), "mailrelay-chart-tests-helm");
        var psi = new ProcessStartInfo(Binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["HELM_CONFIG_HOME"] = Path.Combine(home, "config");
        psi.Environment["HELM_CACHE_HOME"] = Path.Combine(home, "cache");
        psi.Environment["HELM_DATA_HOME"] = Path.Combine(home, "data");
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("helm " + string.Join(' ', args) + " did not finish in 60 s");
        }

        return new HelmResult(p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary><c>helm template mail-relay CHART -n mail-relay ARGS</c>; fails the test unless it succeeds.</summary>
    public static RenderedChart Template(params string[] args)
    {
        var result = TryTemplate(args);
        Assert.True(result.ExitCode == 0, result.ToString());
        return RenderedChart.Parse(result.Stdout);
    }

    public static HelmResult TryTemplate(params string[] args) =>
        Run(["template", Release, ChartDir, "--namespace", Namespace, .. args]);

    /// <summary>The required value given, as a user must.</summary>
    public static readonly string[] Minimal = ["--set", "allowedNetworks={10.244.0.0/16}"];

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "MailRelayOperator.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("cannot find MailRelayOperator.sln above " + AppContext.BaseDirectory);
    }
}
