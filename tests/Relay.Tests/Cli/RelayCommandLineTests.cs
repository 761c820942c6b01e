using System.Net;
using MailRelay.Contracts.Routing;
using MailRelay.Relay.Cli;

namespace MailRelay.Relay.Tests.Cli;

public class RelayCommandLineTests
{
    [Fact]
    public void Defaults_follow_API_md()
    {
        var o = RelayCommandLine.Bind(name => RelayCommandLine.RunOptions.First(x => x.Name == name).Default);
        Assert.Equal(new IPEndPoint(IPAddress.Any, 2525), o.Listen);
        Assert.Equal("/etc/mailrelay/routes/routes.yaml", o.RoutesFile);
        Assert.Equal("/etc/mailrelay/credentials", o.CredentialsDir);
        Assert.Equal("/var/spool/mailrelay", o.SpoolDir);
        Assert.Equal(DefaultAction.Direct, o.DefaultAction);
        Assert.Equal(25, o.DirectPort);
        Assert.Equal(25 * 1024 * 1024, o.MaxMessageSize);
        Assert.Equal(TimeSpan.FromSeconds(300), o.RetryMin);
        Assert.Equal(TimeSpan.FromSeconds(4000), o.RetryMax);
        Assert.Null(o.Metrics);
    }

    [Fact]
    public void Values_are_parsed()
    {
        var values = new Dictionary<string, string>
        {
            ["--listen"] = "127.0.0.1:2626",
            ["--allowed-networks"] = "10.0.0.0/8, 192.168.1.7",
            ["--default-action"] = "REJECT",
            ["--dns-server"] = "127.0.0.1",
            ["--max-message-size"] = "40m",
            ["--retry-min"] = "1s",
            ["--retry-max"] = "2m",
            ["--metrics"] = ":9090",
            ["--clients"] = "/not/mounted/yet/clients.yaml", // may not exist at start: an optional Secret volume
        };
        var o = RelayCommandLine.Bind(values.GetValueOrDefault);
        Assert.Equal(IPEndPoint.Parse("127.0.0.1:2626"), o.Listen);
        Assert.Equal([IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("192.168.1.7/32")], o.AllowedNetworks);
        Assert.Equal(DefaultAction.Reject, o.DefaultAction);
        Assert.Equal(IPEndPoint.Parse("127.0.0.1:53"), o.DnsServer);
        Assert.Equal(40 * 1024 * 1024, o.MaxMessageSize);
        Assert.Equal(TimeSpan.FromMinutes(2), o.RetryMax);
        Assert.Equal(IPEndPoint.Parse("0.0.0.0:9090"), o.Metrics);
        Assert.Equal("/not/mounted/yet/clients.yaml", o.ClientsFile);
        Assert.Null(RelayCommandLine.Bind(_ => null).ClientsFile);
    }

    [Theory]
    [InlineData("--listen", "nowhere", "--listen")]
    [InlineData("--allowed-networks", "10.0.0.0/33", "--allowed-networks")]
    [InlineData("--default-action", "bounce", "--default-action")]
    [InlineData("--direct-port", "0", "--direct-port")]
    [InlineData("--retry-min", "soon", "--retry-min")]
    [InlineData("--max-message-size", "-5", "--max-message-size")]
    [InlineData("--tls-cert", "/etc/hostname", "--tls-key")]
    [InlineData("--trust-ca", "/nonexistent.pem", "does not exist")]
    public void Bad_values_are_clear_errors(string option, string value, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => RelayCommandLine.Bind(name => name == option ? value : null));
        Assert.Contains(expected, e.Message);
    }
}
