using System.CommandLine;
using MailRelay.Contracts.Cli;
using MailRelay.Relay.Routing;

namespace MailRelay.Relay.Cli;

/// <summary>
/// The relay's command line: running the relay (the root command) and <c>explain</c>.
/// Every option is read as text, defaulting to its <c>MAILRELAY_*</c> variable, then checked by <see cref="Bind"/>.
/// </summary>
public static class RelayCommandLine
{
    /// <summary>Each option of the root command: name, default, help.</summary>
    public static readonly (string Name, string? Default, string Help)[] RunOptions =
    [
        ("--listen", "0.0.0.0:2525", "ADDR:PORT where SMTP is accepted"),
        ("--routes", "/etc/mailrelay/routes/routes.yaml", "routing table file (re-read when it changes)"),
        ("--credentials", "/etc/mailrelay/credentials", "directory of the mounted credentials Secret"),
        ("--spool", "/var/spool/mailrelay", "durable queue directory"),
        ("--allowed-networks", "127.0.0.0/8,::1/128", "CIDRs that may relay without SMTP AUTH"),
        ("--default-action", "direct", "direct|reject for mail that no route matches"),
        ("--dns-server", null, "HOST:PORT of the resolver for MX look-ups (default: the system's)"),
        ("--direct-port", "25", "port for direct MX delivery"),
        ("--trust-ca", null, "PEM file of extra trust anchors for tls: Verify"),
        ("--metrics", null, "ADDR:PORT for /metrics, /healthz, /readyz"),
        ("--tls-cert", null, "PEM certificate for STARTTLS (with --tls-key)"),
        ("--tls-key", null, "PEM private key for STARTTLS"),
        ("--users", null, "file of user:password lines for client SMTP AUTH (offered over TLS only)"),
        ("--max-message-size", "25m", "largest accepted message (SIZE, enforced: 552 above it)"),
        ("--retry-min", "300s", "first retry delay after a temporary failure"),
        ("--retry-max", "4000s", "longest retry delay"),
        ("--max-queue-lifetime", "5d", "how long a message may stay queued"),
        ("--delivery-concurrency", "8", "deliveries in flight at once"),
        ("--reload-interval", "2s", "how often routes and credentials are checked for changes"),
        ("--hostname", null, "name used in the greeting and Received headers (default: the host name)"),
        ("--smtp-timeout", "60s", "timeout of one upstream SMTP command"),
    ];

    /// <summary>Builds the command tree; <paramref name="run"/> and <paramref name="explain"/> are the actions.</summary>
    public static RootCommand Build(
        Func<RelayOptions, CancellationToken, Task<int>> run,
        Func<ExplainRequest, int> explain)
    {
        var root = new RootCommand("MailRelayOperator relay: accepts mail from cluster apps and delivers it by route.");
        var runOptions = RunOptions.ToDictionary(o => o.Name, o => EnvironmentOption.Text(o.Name, o.Default, o.Help));
        foreach (var option in runOptions.Values)
        {
            root.Options.Add(option);
        }

        root.SetAction(async (result, ct) =>
        {
            RelayOptions options;
            try
            {
                options = Bind(name => result.GetValue(runOptions[name]));
            }
            catch (ArgumentException e)
            {
                await Console.Error.WriteLineAsync("error: " + e.Message);
                return 2;
            }

            return await run(options, ct);
        });

        var explainCommand = new Command("explain", "Print the route a message would take, and why.");
        var routes = EnvironmentOption.Text("--routes", "/etc/mailrelay/routes/routes.yaml", "routing table file");
        var from = new Option<string>("--from") { Description = "envelope sender (use '<>' for the null sender)", Required = true };
        var to = new Option<string[]>("--to") { Description = "recipient (repeatable)", Required = true, AllowMultipleArgumentsPerToken = true };
        var defaultAction = EnvironmentOption.Text("--default-action", "direct", "direct|reject for mail that no route matches");
        explainCommand.Options.Add(routes);
        explainCommand.Options.Add(from);
        explainCommand.Options.Add(to);
        explainCommand.Options.Add(defaultAction);
        explainCommand.SetAction(result =>
        {
            try
            {
                var action = ParseDefaultAction(result.GetValue(defaultAction)!);
                return explain(new ExplainRequest(result.GetValue(routes)!, result.GetValue(from)!, result.GetValue(to)!, action));
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine("error: " + e.Message);
                return 2;
            }
        });
        root.Subcommands.Add(explainCommand);
        return root;
    }

    /// <summary>Turns option texts (already defaulted) into checked options.</summary>
    public static RelayOptions Bind(Func<string, string?> value)
    {
        string? Opt(string name) => value(name) is { Length: > 0 } v ? v : null;
        var defaults = new RelayOptions();
        var cert = Opt("--tls-cert");
        var key = Opt("--tls-key");
        if (cert is null != key is null)
        {
            throw new ArgumentException("--tls-cert and --tls-key go together");
        }

        var options = defaults with
        {
            Listen = OptionValues.EndPoint("--listen", Opt("--listen") ?? "0.0.0.0:2525"),
            RoutesFile = Opt("--routes") ?? defaults.RoutesFile,
            CredentialsDir = Opt("--credentials") ?? defaults.CredentialsDir,
            SpoolDir = Opt("--spool") ?? defaults.SpoolDir,
            AllowedNetworks = Opt("--allowed-networks") is { } nets ? OptionValues.Networks("--allowed-networks", nets) : defaults.AllowedNetworks,
            DefaultAction = ParseDefaultAction(Opt("--default-action") ?? "direct"),
            DnsServer = Opt("--dns-server") is { } dns ? OptionValues.EndPoint("--dns-server", dns.Contains(':') ? dns : dns + ":53") : null,
            DirectPort = OptionValues.Integer("--direct-port", Opt("--direct-port") ?? "25", 1, 65535),
            TrustCaFile = Opt("--trust-ca"),
            Metrics = Opt("--metrics") is { } m ? OptionValues.EndPoint("--metrics", m) : null,
            TlsCertFile = cert,
            TlsKeyFile = key,
            UsersFile = Opt("--users"),
            MaxMessageSize = OptionValues.Size("--max-message-size", Opt("--max-message-size") ?? "25m"),
            RetryMin = OptionValues.Duration("--retry-min", Opt("--retry-min") ?? "300s"),
            RetryMax = OptionValues.Duration("--retry-max", Opt("--retry-max") ?? "4000s"),
            MaxQueueLifetime = OptionValues.Duration("--max-queue-lifetime", Opt("--max-queue-lifetime") ?? "5d"),
            DeliveryConcurrency = OptionValues.Integer("--delivery-concurrency", Opt("--delivery-concurrency") ?? "8", 1, 1000),
            ReloadInterval = OptionValues.Duration("--reload-interval", Opt("--reload-interval") ?? "2s"),
            HostName = Opt("--hostname") ?? defaults.HostName,
            SmtpTimeout = OptionValues.Duration("--smtp-timeout", Opt("--smtp-timeout") ?? "60s"),
        };

        if (options.RetryMin <= TimeSpan.Zero || options.RetryMax < options.RetryMin)
        {
            throw new ArgumentException("--retry-min must be positive and not above --retry-max");
        }

        foreach (var file in new[] { options.TrustCaFile, options.TlsCertFile, options.TlsKeyFile, options.UsersFile })
        {
            if (file is not null && !File.Exists(file))
            {
                throw new ArgumentException($"file '{file}' does not exist");
            }
        }

        return options;
    }

    private static DefaultAction ParseDefaultAction(string text) => text.Trim().ToLowerInvariant() switch
    {
        "direct" => DefaultAction.Direct,
        "reject" => DefaultAction.Reject,
        _ => throw new ArgumentException($"--default-action: '{text}' is not direct or reject"),
    };

}

/// <summary>The arguments of <c>explain</c>.</summary>
public sealed record ExplainRequest(string RoutesFile, string From, IReadOnlyList<string> To, DefaultAction DefaultAction);
