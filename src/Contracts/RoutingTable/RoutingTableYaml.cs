using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace MailRelay.Contracts.RoutingTable;

/// <summary>Reads and writes <c>routes.yaml</c>. Rendering is deterministic: the same table gives byte-identical text.</summary>
public static class RoutingTableYaml
{
    private const string Header = "# Routing table of the mail relay, written by the MailRelayOperator. Do not edit by hand.\n";

    private static readonly IDeserializer Deserializer = new DeserializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .Build();

    private static readonly ISerializer Serializer = new SerializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .ConfigureDefaultValuesHandling(DefaultValuesHandling.OmitNull)
        .WithIndentedSequences()
        .Build();

    /// <summary>Parses and validates a routing table; throws <see cref="RoutingTableException"/> listing every problem.</summary>
    public static RoutingTable Parse(string yaml)
    {
        RoutingTableDocument? doc;
        try
        {
            doc = Deserializer.Deserialize<RoutingTableDocument?>(yaml);
        }
        catch (YamlException e)
        {
            var inner = e.InnerException?.Message is { } m ? ": " + m : string.Empty;
            throw new RoutingTableException([$"line {e.Start.Line}, column {e.Start.Column}: {e.Message}{inner}"]);
        }

        if (doc is null)
        {
            throw new RoutingTableException(["the file is empty"]);
        }

        return FromDocument(doc);
    }

    /// <summary>Validates a document into a table; throws <see cref="RoutingTableException"/> listing every problem.</summary>
    public static RoutingTable FromDocument(RoutingTableDocument doc)
    {
        var errors = new List<string>();
        if (doc.ApiVersion != RoutingTableDocument.CurrentApiVersion)
        {
            errors.Add($"apiVersion '{doc.ApiVersion}' is not {RoutingTableDocument.CurrentApiVersion}");
        }

        if (doc.Kind != RoutingTableDocument.DocumentKind)
        {
            errors.Add($"kind '{doc.Kind}' is not {RoutingTableDocument.DocumentKind}");
        }

        var routes = new List<Route>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < doc.Routes.Count; i++)
        {
            var routeErrors = new List<string>();
            var route = RouteValidator.Validate(doc.Routes[i], routeErrors);
            var where = $"routes[{i}]" + (doc.Routes[i].Name is { Length: > 0 } n ? $" ({n})" : string.Empty);
            errors.AddRange(routeErrors.Select(e => $"{where}: {e}"));
            if (route is not null && !names.Add(route.Name))
            {
                errors.Add($"{where}: the name is used by an earlier route");
            }
            else if (route is not null)
            {
                routes.Add(route);
            }
        }

        if (errors.Count > 0)
        {
            throw new RoutingTableException(errors);
        }

        return new RoutingTable(routes);
    }

    /// <summary>Renders a table: routes sorted by name, patterns in their canonical form.</summary>
    public static string Render(RoutingTable table)
    {
        var doc = new RoutingTableDocument
        {
            Routes = table.Routes
                .OrderBy(r => r.Name, StringComparer.Ordinal)
                .Select(ToDocument)
                .ToList(),
        };
        return Header + Serializer.Serialize(doc);
    }

    /// <summary>The document form of one route.</summary>
    public static RouteDocument ToDocument(Route r) => new()
    {
        Name = r.Name,
        Priority = r.Priority,
        Created = r.Created == DateTimeOffset.UnixEpoch ? null : r.Created.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture), // absent stays absent
        Senders = r.Senders.Select(p => p.ToString()).ToList(),
        Recipients = r.Recipients.Count == 0 ? null : r.Recipients.Select(p => p.ToString()).ToList(),
        Relay = r.Relay is { } t
            ? new RelayDocument { Host = t.Host, Port = t.Port, Tls = t.Tls.ToString(), Credential = t.Credential, MaxRecipients = t.MaxRecipients }
            : null,
        Direct = r.Action == RouteAction.Direct ? new DirectDocument() : null,
        Reject = r.Action == RouteAction.Reject ? new RejectDocument { Message = r.RejectMessage } : null,
        Hold = r.Action == RouteAction.Hold ? new HoldDocument { Reason = r.HoldReason } : null,
    };
}
