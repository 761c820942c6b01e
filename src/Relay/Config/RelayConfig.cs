using MailRelay.Contracts.Routing;
using MailRelay.Contracts.RoutingTable;

namespace MailRelay.Relay.Config;

/// <summary>One immutable, consistent configuration: swapped whole when the files change, never edited.</summary>
public sealed record RelayConfig(RouteResolver Resolver, CredentialSet Credentials, string Version)
{
    /// <summary>The routing table in force.</summary>
    public RoutingTable Table => Resolver.Index.Table;
}
