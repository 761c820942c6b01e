using System.Net;
using MailRelay.Relay.Routing;

namespace MailRelay.Relay.Cli;

/// <summary>The relay's settings, parsed and checked (see docs/relay.md for each option).</summary>
public sealed record RelayOptions
{
    /// <summary>Where SMTP is accepted.</summary>
    public IPEndPoint Listen { get; init; } = new(IPAddress.Any, 2525);

    /// <summary>The routing table file, re-read when it changes.</summary>
    public string RoutesFile { get; init; } = "/etc/mailrelay/routes/routes.yaml";

    /// <summary>The mounted credentials Secret: one file a key.</summary>
    public string CredentialsDir { get; init; } = "/etc/mailrelay/credentials";

    /// <summary>The durable queue.</summary>
    public string SpoolDir { get; init; } = "/var/spool/mailrelay";

    /// <summary>Clients that may relay without SMTP AUTH.</summary>
    public IReadOnlyList<IPNetwork> AllowedNetworks { get; init; } = [IPNetwork.Parse("127.0.0.0/8"), IPNetwork.Parse("::1/128")];

    /// <summary>What happens to mail no route matches.</summary>
    public DefaultAction DefaultAction { get; init; } = DefaultAction.Direct;

    /// <summary>Resolver for MX look-ups; null = the system's.</summary>
    public IPEndPoint? DnsServer { get; init; }

    /// <summary>Port for direct MX delivery.</summary>
    public int DirectPort { get; init; } = 25;

    /// <summary>Extra PEM trust anchors for <c>Verify</c>.</summary>
    public string? TrustCaFile { get; init; }

    /// <summary>Where <c>/metrics</c>, <c>/healthz</c> and <c>/readyz</c> are served; null = not served.</summary>
    public IPEndPoint? Metrics { get; init; }

    /// <summary>PEM certificate (chain) for STARTTLS; with <see cref="TlsKeyFile"/>.</summary>
    public string? TlsCertFile { get; init; }

    /// <summary>PEM private key for STARTTLS.</summary>
    public string? TlsKeyFile { get; init; }

    /// <summary>File of <c>user:password</c> lines for client SMTP AUTH (offered only over TLS).</summary>
    public string? UsersFile { get; init; }

    /// <summary>Largest accepted message, in bytes (SIZE, enforced strictly).</summary>
    public int MaxMessageSize { get; init; } = 25 * 1024 * 1024;

    /// <summary>First retry delay after a temporary failure.</summary>
    public TimeSpan RetryMin { get; init; } = TimeSpan.FromSeconds(300);

    /// <summary>Longest retry delay (the backoff doubles up to this).</summary>
    public TimeSpan RetryMax { get; init; } = TimeSpan.FromSeconds(4000);

    /// <summary>How long a message may stay queued before it fails permanently.</summary>
    public TimeSpan MaxQueueLifetime { get; init; } = TimeSpan.FromDays(5);

    /// <summary>Deliveries in flight at once.</summary>
    public int DeliveryConcurrency { get; init; } = 8;

    /// <summary>How often the routes file and the credentials are checked for changes.</summary>
    public TimeSpan ReloadInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The name in the greeting, EHLO and Received headers.</summary>
    public string HostName { get; init; } = Dns.GetHostName();

    /// <summary>Timeout for one upstream SMTP command or connect.</summary>
    public TimeSpan SmtpTimeout { get; init; } = TimeSpan.FromSeconds(60);
}
