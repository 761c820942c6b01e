using System.CommandLine;
using System.Net;
using MailRelay.CommandLine;
using MailRelay.Contracts.Routing;
using MailRelay.Relay.Send;

namespace MailRelay.Relay.Cli;

/// <summary>
/// The relay's command line: running the relay (the root command), <c>explain</c> and <c>send</c>.
/// Every option is read as text, defaulting to its <c>MAILRELAY_*</c> variable, then checked by <see cref="Bind"/>.
/// </summary>
public static class RelayCommandLine
{
    /// <summary>Each option of the root command: name, default, help. The only place their defaults are set.</summary>
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
        ("--clients", null, "client table (clients.yaml, written by the operator): sending identities for SMTP AUTH and which senders each may use; re-read on change"),
        ("--users", null, "file of user:password lines for client SMTP AUTH (offered over TLS only)"),
        ("--max-message-size", "25m", "largest accepted message (SIZE, enforced: 552 above it)"),
        ("--retry-min", "300s", "first retry delay after a temporary failure"),
        ("--retry-max", "4000s", "longest retry delay"),
        ("--max-queue-lifetime", "5d", "how long a message may stay queued"),
        ("--delay-warning", "0s", "tell the sender once when a message is still queued after this long (0: never; Postfix's delay_warning_time)"),
        ("--delivery-concurrency", "8", "deliveries in flight at once"),
        ("--destination-concurrency", "4", "deliveries in flight to one next hop (a relay host:port, or a recipient domain): a slow one never takes every worker"),
        ("--reload-interval", "2s", "how often routes and credentials are checked for changes"),
        ("--hostname", null, "name used in the greeting and Received headers (default: the host name)"),
        ("--smtp-timeout", "60s", "timeout of one upstream SMTP command"),
        ("--idle-timeout", "300s", "how long a client may stay silent between commands before 421 (RFC 5321 4.5.3.2, Postfix's smtpd_timeout)"),
        ("--data-timeout", "10m", "the longest a client may take to send one message after 354 (RFC 5321 4.5.3.2.6's 10 minutes); then 421"),
        ("--max-connections", "100", "SMTP connections at once; more get 421 4.7.0 (Postfix's default_process_limit)"),
        ("--max-connections-per-client", "50", "SMTP connections at once from one client address (smtpd_client_connection_count_limit)"),
        ("--max-recipients", "1000", "recipients per message; more get 452 4.5.3 (smtpd_recipient_limit)"),
        ("--shutdown-grace", "15s", "on SIGTERM, how long a client in a mail transaction may take to finish it; idle clients get 421 at once"),
    ];

    /// <summary>The default of a root-command option in <see cref="RunOptions"/>.</summary>
    public static string? Default(string name) => RunOptions.Single(o => o.Name == name).Default;

    /// <summary>Builds the command tree; <paramref name="run"/>, <paramref name="explain"/> and <paramref name="send"/> are the actions.</summary>
    public static RootCommand Build(
        Func<RelayOptions, CancellationToken, Task<int>> run,
        Func<ExplainRequest, int> explain,
        Func<SendRequest, CancellationToken, Task<int>> send)
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
        var routes = EnvironmentOption.Text("--routes", Default("--routes"), "routing table file");
        var from = new Option<string>("--from") { Description = "envelope sender (use '<>' for the null sender)", Required = true };
        var to = new Option<string[]>("--to") { Description = "recipient (repeatable)", Required = true, AllowMultipleArgumentsPerToken = true };
        var defaultAction = EnvironmentOption.Text("--default-action", Default("--default-action"), "direct|reject for mail that no route matches");
        var credentials = new Option<string?>("--credentials") { Description = "credentials directory: a relay route whose credential files are missing there is shown held, as the relay holds it" };
        explainCommand.Options.Add(routes);
        explainCommand.Options.Add(credentials);
        explainCommand.Options.Add(from);
        explainCommand.Options.Add(to);
        explainCommand.Options.Add(defaultAction);
        explainCommand.SetAction(result =>
        {
            try
            {
                var action = ParseDefaultAction(result.GetValue(defaultAction)!);
                return explain(new ExplainRequest(result.GetValue(routes)!, result.GetValue(from)!, result.GetValue(to)!, action, result.GetValue(credentials)));
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine("error: " + e.Message);
                return 2;
            }
        });
        root.Subcommands.Add(explainCommand);
        root.Subcommands.Add(SendCommand(send));
        return root;
    }

    private static Command SendCommand(Func<SendRequest, CancellationToken, Task<int>> send)
    {
        var command = new Command("send", "Send a test message to the relay with a sending identity (the mounted mail-relay-smtp Secret): STARTTLS verified against its ca.crt, then AUTH.");
        var identity = new Option<string>("--identity") { Description = "directory of the mounted mail-relay-smtp Secret (host, port, username, password, ca.crt)", DefaultValueFactory = _ => "/etc/mailrelay/smtp" };
        var from = new Option<string>("--from") { Description = "sender address (inside a domain granted to the identity's namespace)", Required = true };
        var to = new Option<string[]>("--to") { Description = "recipient (repeatable)", Required = true, AllowMultipleArgumentsPerToken = true };
        var subject = new Option<string>("--subject") { Description = "subject of the test message", DefaultValueFactory = _ => "mailrelay test message" };
        var server = new Option<string?>("--server") { Description = "HOST[:PORT] to connect to instead of the identity's host and port (the certificate must still name it)" };
        command.Options.Add(identity);
        command.Options.Add(from);
        command.Options.Add(to);
        command.Options.Add(subject);
        command.Options.Add(server);
        command.SetAction((result, ct) => send(
            new SendRequest(result.GetValue(identity)!, result.GetValue(from)!, result.GetValue(to)!, result.GetValue(subject)!, result.GetValue(server)), ct));
        return command;
    }

    /// <summary>Turns option texts into checked options; an option without a value takes its default from <see cref="RunOptions"/>.</summary>
    public static RelayOptions Bind(Func<string, string?> value)
    {
        string? Opt(string name) => value(name) is { Length: > 0 } v ? v : Default(name);
        string Text(string name) => Opt(name) ?? throw new InvalidOperationException($"{name} has no default in {nameof(RunOptions)}");
        var cert = Opt("--tls-cert");
        var key = Opt("--tls-key");
        if (cert is null != key is null)
        {
            throw new ArgumentException("--tls-cert and --tls-key go together");
        }

        var options = new RelayOptions
        {
            Listen = OptionValues.EndPoint("--listen", Text("--listen")),
            RoutesFile = Text("--routes"),
            CredentialsDir = Text("--credentials"),
            SpoolDir = Text("--spool"),
            AllowedNetworks = OptionValues.Networks("--allowed-networks", Text("--allowed-networks")),
            DefaultAction = ParseDefaultAction(Text("--default-action")),
            DnsServer = Opt("--dns-server") is { } dns ? OptionValues.EndPoint("--dns-server", dns.Contains(':') ? dns : dns + ":53") : null,
            DirectPort = OptionValues.Integer("--direct-port", Text("--direct-port"), 1, 65535),
            TrustCaFile = Opt("--trust-ca"),
            Metrics = Opt("--metrics") is { } m ? OptionValues.EndPoint("--metrics", m) : null,
            TlsCertFile = cert,
            TlsKeyFile = key,
            UsersFile = Opt("--users"),
            ClientsFile = Opt("--clients"),
            MaxMessageSize = OptionValues.Size("--max-message-size", Text("--max-message-size")),
            RetryMin = OptionValues.Duration("--retry-min", Text("--retry-min")),
            RetryMax = OptionValues.Duration("--retry-max", Text("--retry-max")),
            MaxQueueLifetime = OptionValues.Duration("--max-queue-lifetime", Text("--max-queue-lifetime")),
            DelayWarning = OptionValues.Duration("--delay-warning", Text("--delay-warning")),
            DeliveryConcurrency = OptionValues.Integer("--delivery-concurrency", Text("--delivery-concurrency"), 1, 1000),
            DestinationConcurrency = OptionValues.Integer("--destination-concurrency", Text("--destination-concurrency"), 1, 1000),
            ReloadInterval = OptionValues.Duration("--reload-interval", Text("--reload-interval")),
            HostName = Opt("--hostname") ?? Dns.GetHostName(),
            SmtpTimeout = OptionValues.Duration("--smtp-timeout", Text("--smtp-timeout")),
            IdleTimeout = OptionValues.Duration("--idle-timeout", Text("--idle-timeout")),
            DataTimeout = OptionValues.Duration("--data-timeout", Text("--data-timeout")),
            ShutdownGrace = OptionValues.Duration("--shutdown-grace", Text("--shutdown-grace")),
            MaxConnections = OptionValues.Integer("--max-connections", Text("--max-connections"), 1, 100_000),
            MaxConnectionsPerClient = OptionValues.Integer("--max-connections-per-client", Text("--max-connections-per-client"), 1, 100_000),
            MaxRecipients = OptionValues.Integer("--max-recipients", Text("--max-recipients"), 1, 100_000),
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
public sealed record ExplainRequest(string RoutesFile, string From, IReadOnlyList<string> To, DefaultAction DefaultAction, string? CredentialsDir = null);
