namespace MailRelay.Contracts.RoutingTable;

/// <summary>The relay's whole routing table: what the operator writes to <c>routes.yaml</c>.</summary>
public sealed record RoutingTable(IReadOnlyList<Route> Routes)
{
    /// <summary>The names of the credentials the routes refer to.</summary>
    public IEnumerable<string> CredentialNames =>
        Routes.Select(r => r.Relay?.Credential).OfType<string>().Distinct(StringComparer.Ordinal);
}
