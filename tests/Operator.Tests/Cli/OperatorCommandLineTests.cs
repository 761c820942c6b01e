using MailRelay.Operator.Cli;

namespace MailRelay.Operator.Tests.Cli;

public class OperatorCommandLineTests
{
    [Fact]
    public void Workload_and_leader_election_are_parsed()
    {
        var values = new Dictionary<string, string> { ["--relay-workload"] = "statefulset/relay", ["--leader-elect"] = "false", ["--namespace"] = "mail", ["--resync-period"] = "30" };
        var o = OperatorCommandLine.Bind(values.GetValueOrDefault);
        Assert.Equal(("statefulset", "relay"), (o.WorkloadKind, o.WorkloadName));
        Assert.False(o.LeaderElect);
        Assert.Equal("mail", o.Namespace);
        Assert.Equal(TimeSpan.FromSeconds(30), o.ResyncPeriod);
        Assert.Equal("mail-relay-routes", o.ConfigMapName);
    }

    [Fact]
    public void Options_without_a_value_take_the_option_tables_defaults()
    {
        var o = OperatorCommandLine.Bind(_ => null);
        Assert.Equal(("statefulset", "mail-relay"), (o.WorkloadKind, o.WorkloadName)); // deploy/relay and the chart ship a StatefulSet
        Assert.Equal(("mail-relay-routes", "mail-relay-credentials"), (o.ConfigMapName, o.SecretName));
        Assert.True(o.LeaderElect);
        Assert.Equal("mailrelay-operator", o.LeaseName);
        Assert.Equal(TimeSpan.FromSeconds(300), o.ResyncPeriod);
        Assert.Equal(TimeSpan.FromSeconds(300), o.WatchTimeout);
        Assert.Null(o.Kubeconfig);
        Assert.Null(o.Metrics); // an empty --metrics: a free port on 127.0.0.1
        Assert.Equal("0.0.0.0:8080", OperatorCommandLine.Default("--metrics"));
    }

    [Fact]
    public void Trusted_namespaces_default_to_the_operators_own_namespace()
    {
        Assert.Equal(["mail"], OperatorCommandLine.Bind(name => name == "--namespace" ? "mail" : null).TrustedNamespaces);
        Assert.Null(OperatorCommandLine.Default("--trusted-namespaces"));
    }

    [Fact]
    public void Trusted_namespaces_are_a_comma_separated_list()
    {
        var values = new Dictionary<string, string> { ["--namespace"] = "mail", ["--trusted-namespaces"] = " platform, mail ,ops," };
        var o = OperatorCommandLine.Bind(values.GetValueOrDefault);
        Assert.Equal(["mail", "ops", "platform"], o.TrustedNamespaces.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Trusted_namespaces_come_from_their_environment_variable()
    {
        Environment.SetEnvironmentVariable("MAILRELAY_TRUSTED_NAMESPACES", "platform,ops");
        try
        {
            var result = OperatorCommandLine.Build((_, _) => Task.FromResult(0), _ => 0).Parse(["--namespace", "mail"]);
            var option = result.RootCommandResult.Command.Options.Single(o => o.Name == "--trusted-namespaces");
            var o = OperatorCommandLine.Bind(name => name == "--trusted-namespaces" ? result.GetValue((System.CommandLine.Option<string?>)option) : name == "--namespace" ? "mail" : null);
            Assert.Equal(["ops", "platform"], o.TrustedNamespaces.Order(StringComparer.Ordinal));
        }
        finally
        {
            Environment.SetEnvironmentVariable("MAILRELAY_TRUSTED_NAMESPACES", null);
        }
    }

    [Theory]
    [InlineData("--trusted-namespaces", "Bad_Name")]
    [InlineData("--relay-workload", "daemonset/relay")]
    [InlineData("--relay-workload", "deployment/")]
    [InlineData("--leader-elect", "maybe")]
    [InlineData("--resync-period", "0")]
    public void Bad_values_are_clear_errors(string option, string value)
    {
        var e = Assert.Throws<ArgumentException>(() => OperatorCommandLine.Bind(name => name == option ? value : null));
        Assert.StartsWith(option, e.Message);
    }
}
