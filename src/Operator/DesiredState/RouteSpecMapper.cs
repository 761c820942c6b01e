using System.Globalization;
using MailRelay.Contracts.RoutingTable;
using MailRelay.Operator.Entities;

namespace MailRelay.Operator.DesiredState;

/// <summary>
/// Turns a MailRoute into a routing-table route with the same validator the relay uses, so a
/// route the operator accepts is always one the relay loads.
/// </summary>
public static class RouteSpecMapper
{
    /// <summary>The credential name in the relay's Secret for a RelayCredential: <c>NAMESPACE.NAME</c>.</summary>
    public static string CredentialName(string @namespace, string name) => @namespace + "." + name;

    /// <summary>Validates and maps; on failure returns null and the InvalidSpec reasons.</summary>
    public static (Route? Route, IReadOnlyList<string> Errors) Map(MailRoute route)
    {
        var ns = ResourceKey.Namespace(route);
        var spec = route.Spec;
        var doc = new RouteDocument
        {
            Name = ns + "/" + route.Metadata.Name,
            Priority = spec.Priority ?? 0,
            Created = route.Metadata.CreationTimestamp?.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            Senders = spec.Senders,
            Recipients = spec.Recipients,
            Relay = spec.Relay is { } r
                ? new RelayDocument
                {
                    Host = r.Host,
                    Port = r.Port,
                    Tls = r.Tls,
                    Credential = r.CredentialRef is { Name.Length: > 0 } c ? CredentialName(ns, c.Name) : null,
                    MaxRecipients = r.MaxRecipients,
                }
                : null,
            Direct = spec.Direct is null ? null : new DirectDocument(),
            Reject = spec.Reject is { } j ? new RejectDocument { Message = j.Message } : null,
        };
        var errors = new List<string>();
        var mapped = RouteValidator.Validate(doc, errors);
        return (mapped, errors);
    }
}
