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
    public void Sending_identity_options_default_to_the_relay_Service_in_the_operators_namespace()
    {
        var o = OperatorCommandLine.Bind(name => name switch { "--namespace" => "mail", "--relay-workload" => "statefulset/relay", _ => null });
        Assert.Equal(("mail-relay-smtp", "mail-relay-clients"), (o.SmtpSecretName, o.ClientsSecretName));
        Assert.Equal(("mail-relay-ca", "mail-relay-tls"), (o.CaSecretName, o.RelayTlsSecretName));
        Assert.Null(o.RelayTlsSourceSecret); // the operator issues from its own CA
        Assert.Equal("relay-cert", OperatorCommandLine.Bind(name => name == "--relay-tls-source-secret" ? "relay-cert" : null).RelayTlsSourceSecret);
        Assert.Equal(("relay.mail.svc", 25), (o.RelaySmtpHost, o.RelaySmtpPort));
        var given = OperatorCommandLine.Bind(name => name switch { "--relay-smtp-host" => "smtp.example.org", "--relay-smtp-port" => "587", _ => null });
        Assert.Equal(("smtp.example.org", 587), (given.RelaySmtpHost, given.RelaySmtpPort));
        Assert.Contains("--relay-smtp-port: '0' is not a port number", Assert.Throws<ArgumentException>(() => OperatorCommandLine.Bind(name => name == "--relay-smtp-port" ? "0" : null)).Message);
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

    [Fact]
    public async Task Explain_takes_files_or_the_cluster_and_defaults_from_the_option_table()
    {
        ExplainOptions? seen = null;
        var root = OperatorCommandLine.Build((_, _) => Task.FromResult(0), _ => 0, (o, _) =>
        {
            seen = o;
            return Task.FromResult(0);
        });

        Assert.Equal(0, await root.Parse(["explain", "-f", "a.yaml", "b", "--from", "x@a.example", "--to", "y@b.example", "--to", "z@c.example"]).InvokeAsync());
        Assert.Equal(["a.yaml", "b"], seen!.Files);
        Assert.Equal(["y@b.example", "z@c.example"], seen.To);
        Assert.Equal(MailRelay.Contracts.Routing.DefaultAction.Direct, seen.DefaultAction);
        Assert.Equal("direct", OperatorCommandLine.Default("--default-action"));
        Assert.Equal(["mail-relay"], seen.TrustedNamespaces);

        Assert.Equal(0, await root.Parse(["explain", "--kubeconfig", "/k", "--from", "<>", "--to", "y@b.example", "--default-action", "reject", "--namespace", "mail"]).InvokeAsync());
        Assert.Empty(seen.Files);
        Assert.Equal("/k", seen.Kubeconfig);
        Assert.Equal(MailRelay.Contracts.Routing.DefaultAction.Reject, seen.DefaultAction);
        Assert.Equal(["mail"], seen.TrustedNamespaces);
    }

    [Fact]
    public async Task Render_requires_secrets_only_when_asked()
    {
        RenderOptions? seen = null;
        var root = OperatorCommandLine.Build((_, _) => Task.FromResult(0), o =>
        {
            seen = o;
            return 0;
        });
        await root.Parse(["render", "-f", "x"]).InvokeAsync();
        Assert.False(seen!.RequireSecrets);
        await root.Parse(["render", "-f", "x", "--require-secrets"]).InvokeAsync();
        Assert.True(seen.RequireSecrets);
    }
}
