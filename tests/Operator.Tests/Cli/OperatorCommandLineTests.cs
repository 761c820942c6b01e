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

    [Theory]
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
