namespace MailRelay.Chart.Tests;

/// <summary>helm lint, values.schema.json and determinism (GitOps: a render is a pure function of the values).</summary>
public class ChartValuesTests
{
    [Fact]
    public void Helm_lint_passes_with_the_required_value_and_with_every_option_set()
    {
        var minimal = Helm.Run(["lint", "--strict", Helm.ChartDir, .. Helm.Minimal]);
        Assert.True(minimal.ExitCode == 0, minimal.ToString());
        var full = Helm.Run("lint", "--strict", Helm.ChartDir, "-f", Helm.ValuesFile("full.yaml"));
        Assert.True(full.ExitCode == 0, full.ToString());
    }

    [Fact]
    public void Without_allowedNetworks_the_schema_stops_the_install_and_names_the_value()
    {
        // No silent 10.0.0.0/8: the user must say which networks may relay without AUTH.
        var result = Helm.TryTemplate();
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("missing property 'allowedNetworks'", result.Stderr);
        var lint = Helm.Run("lint", Helm.ChartDir);
        Assert.NotEqual(0, lint.ExitCode);
    }

    [Theory]
    [InlineData("allowedNetworks=null", "allowedNetworks")]
    [InlineData("allowedNetworks={}", "allowedNetworks")]
    [InlineData("allowedNetworks={10.0.0.0}", "allowedNetworks")]
    [InlineData("allowedNetworks={10.0.0.0/33}", "allowedNetworks")]
    [InlineData("allowedNetworks={any}", "allowedNetworks")]
    [InlineData("relay.replicas=0", "replicas")]
    [InlineData("operator.replicas=0", "replicas")]
    [InlineData("relay.shutdownGraceSeconds=0", "shutdownGraceSeconds")]
    [InlineData("service.type=External", "type")]
    [InlineData("relay.persistence.size=lots", "size")]
    [InlineData("relya.replicas=1", "relya")]
    [InlineData("relay.replica=1", "replica")]
    [InlineData("networkPolicy.smtpClients=null", "smtpClients")] // a NetworkPolicy without `from` would admit everyone
    [InlineData("networkPolicy.smtpClients={}", "smtpClients")]
    public void The_schema_rejects_a_bad_value_naming_it(string set, string named)
    {
        var args = set.StartsWith("allowedNetworks", StringComparison.Ordinal) ? new[] { "--set", set } : [.. Helm.Minimal, "--set", set];
        var result = Helm.TryTemplate(args);
        Assert.True(result.ExitCode != 0, $"--set {set} was accepted:\n{result}");
        Assert.Contains(named, result.Stderr);
    }

    [Theory]
    [InlineData("allowedNetworks={10.244.0.0/16}")]
    [InlineData("allowedNetworks={10.244.0.0/16,fd00::/8,192.168.1.7/32}")]
    public void Good_networks_pass_the_schema(string set)
    {
        var result = Helm.TryTemplate("--set", set);
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    [Fact]
    public void Two_renders_are_byte_identical()
    {
        string[] args = ["-f", Helm.ValuesFile("full.yaml")];
        var first = Helm.TryTemplate(args);
        var second = Helm.TryTemplate(args);
        Assert.Equal(0, first.ExitCode);
        Assert.Equal(first.Stdout, second.Stdout);
        var defaults = Helm.TryTemplate(Helm.Minimal);
        Assert.Equal(defaults.Stdout, Helm.TryTemplate(Helm.Minimal).Stdout);
    }

    [Fact]
    public void The_chart_refuses_an_API_server_older_than_1_20()
    {
        var old = Helm.TryTemplate([.. Helm.Minimal, "--kube-version", "1.19.16"]);
        Assert.NotEqual(0, old.ExitCode);
        Assert.Contains("kubeVersion", old.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0, Helm.TryTemplate([.. Helm.Minimal, "--kube-version", "1.20.2"]).ExitCode);
    }
}
