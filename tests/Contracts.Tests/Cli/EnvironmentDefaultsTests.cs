using MailRelay.Contracts.Cli;

namespace MailRelay.Contracts.Tests.Cli;

public class EnvironmentDefaultsTests
{
    [Theory]
    [InlineData("--allowed-networks", "MAILRELAY_ALLOWED_NETWORKS")]
    [InlineData("--listen", "MAILRELAY_LISTEN")]
    [InlineData("--leader-elect", "MAILRELAY_LEADER_ELECT")]
    public void Variable_names_follow_API_md(string option, string variable) =>
        Assert.Equal(variable, EnvironmentDefaults.VariableFor(option));

    [Fact]
    public void Variable_value_is_used_when_set_and_fallback_otherwise()
    {
        var env = new Dictionary<string, string> { ["MAILRELAY_LISTEN"] = "127.0.0.1:2626", ["MAILRELAY_SPOOL"] = "" };
        Assert.Equal("127.0.0.1:2626", EnvironmentDefaults.Get("--listen", "0.0.0.0:2525", env.GetValueOrDefault));
        Assert.Equal("/var/spool", EnvironmentDefaults.Get("--spool", "/var/spool", env.GetValueOrDefault));
        Assert.Null(EnvironmentDefaults.Get("--metrics", null, env.GetValueOrDefault));
    }
}
