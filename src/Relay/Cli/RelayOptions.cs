using System.Net;
using MailRelay.Contracts.Routing;

namespace MailRelay.Relay.Cli;

/// <summary>The relay's settings, parsed and checked by <see cref="RelayCommandLine.Bind"/> (see docs/relay.md; the defaults are in <see cref="RelayCommandLine.RunOptions"/>).</summary>
public sealed record RelayOptions
{
    /// <summary>Where SMTP is accepted.</summary>
    public required IPEndPoint Listen { get; init; }

    /// <summary>The routing table file, re-read when it changes.</summary>
    public required string RoutesFile { get; init; }

    /// <summary>The mounted credentials Secret: one file a key.</summary>
    public required string CredentialsDir { get; init; }

    /// <summary>The durable queue.</summary>
    public required string SpoolDir { get; init; }

    /// <summary>Clients that may relay without SMTP AUTH.</summary>
    public required IReadOnlyList<IPNetwork> AllowedNetworks { get; init; }

    /// <summary>What happens to mail no route matches.</summary>
    public required DefaultAction DefaultAction { get; init; }

    /// <summary>Resolver for MX look-ups; null = the system's.</summary>
    public required IPEndPoint? DnsServer { get; init; }

    /// <summary>Port for direct MX delivery.</summary>
    public required int DirectPort { get; init; }

    /// <summary>Extra PEM trust anchors for <c>Verify</c>.</summary>
    public required string? TrustCaFile { get; init; }

    /// <summary>Where <c>/metrics</c>, <c>/healthz</c> and <c>/readyz</c> are served; null = not served.</summary>
    public required IPEndPoint? Metrics { get; init; }

    /// <summary>PEM certificate (chain) for STARTTLS; with <see cref="TlsKeyFile"/>.</summary>
    public required string? TlsCertFile { get; init; }

    /// <summary>PEM private key for STARTTLS.</summary>
    public required string? TlsKeyFile { get; init; }

    /// <summary>File of <c>user:password</c> lines for client SMTP AUTH (offered only over TLS).</summary>
    public required string? UsersFile { get; init; }

    /// <summary>The client table (<c>clients.yaml</c>); null = no sending identities, no sender ownership checks. May not exist yet (a Secret mounted optionally).</summary>
    public string? ClientsFile { get; init; }

    /// <summary>Largest accepted message, in bytes (SIZE, enforced strictly).</summary>
    public required int MaxMessageSize { get; init; }

    /// <summary>First retry delay after a temporary failure.</summary>
    public required TimeSpan RetryMin { get; init; }

    /// <summary>Longest retry delay (the backoff doubles up to this).</summary>
    public required TimeSpan RetryMax { get; init; }

    /// <summary>How long a message may stay queued before it fails permanently.</summary>
    public required TimeSpan MaxQueueLifetime { get; init; }

    /// <summary>After how long in the queue the sender is told once that a message is delayed (zero: never).</summary>
    public required TimeSpan DelayWarning { get; init; }

    /// <summary>Deliveries in flight at once.</summary>
    public required int DeliveryConcurrency { get; init; }

    /// <summary>Deliveries in flight to one destination.</summary>
    public required int DestinationConcurrency { get; init; }

    /// <summary>How often the routes file and the credentials are checked for changes.</summary>
    public required TimeSpan ReloadInterval { get; init; }

    /// <summary>The name in the greeting, EHLO and Received headers.</summary>
    public required string HostName { get; init; }

    /// <summary>Timeout for one upstream SMTP command or connect.</summary>
    public required TimeSpan SmtpTimeout { get; init; }

    /// <summary>How long a client may stay silent between commands.</summary>
    public required TimeSpan IdleTimeout { get; init; }

    /// <summary>The longest a client may take to send one message (after 354).</summary>
    public required TimeSpan DataTimeout { get; init; }

    /// <summary>On SIGTERM, how long clients in a mail transaction may take to finish it.</summary>
    public required TimeSpan ShutdownGrace { get; init; }

    /// <summary>SMTP connections at once.</summary>
    public required int MaxConnections { get; init; }

    /// <summary>SMTP connections at once from one client address.</summary>
    public required int MaxConnectionsPerClient { get; init; }

    /// <summary>Recipients per message.</summary>
    public required int MaxRecipients { get; init; }
}
