namespace MailRelay.Contracts.RoutingTable;

/// <summary>The YAML shape of <c>routes.yaml</c> (see docs/routing-table.md). Parsed by <see cref="RoutingTableYaml"/>.</summary>
public sealed class RoutingTableDocument
{
    /// <summary>The only version there is.</summary>
    public const string CurrentApiVersion = "mailrelay.io/v1alpha1";

    /// <summary>The document kind.</summary>
    public const string DocumentKind = "RoutingTable";

    /// <summary>Always <see cref="CurrentApiVersion"/>.</summary>
    public string ApiVersion { get; set; } = CurrentApiVersion;

    /// <summary>Always <see cref="DocumentKind"/>.</summary>
    public string Kind { get; set; } = DocumentKind;

    /// <summary>The routes, sorted by name when rendered.</summary>
    public List<RouteDocument> Routes { get; set; } = [];
}

/// <summary>One route as written in <c>routes.yaml</c>; mirrors a MailRoute spec.</summary>
public sealed class RouteDocument
{
    /// <summary><c>namespace/name</c> of the MailRoute.</summary>
    public string? Name { get; set; }

    /// <summary>-1000..1000, default 0.</summary>
    public int Priority { get; set; }

    /// <summary>creationTimestamp (RFC 3339); the tie-break after specificity.</summary>
    public string? Created { get; set; }

    /// <summary>Sender patterns.</summary>
    public List<string>? Senders { get; set; }

    /// <summary>Recipient patterns; empty or absent = any.</summary>
    public List<string>? Recipients { get; set; }

    /// <summary>Set for a relay route.</summary>
    public RelayDocument? Relay { get; set; }

    /// <summary>Set (to <c>{}</c>) for a direct route.</summary>
    public DirectDocument? Direct { get; set; }

    /// <summary>Set for a reject route.</summary>
    public RejectDocument? Reject { get; set; }

    /// <summary>Set for a held route (fail closed: its mail waits in the queue).</summary>
    public HoldDocument? Hold { get; set; }
}

/// <summary>The upstream of a relay route.</summary>
public sealed class RelayDocument
{
    /// <summary>Host name or IP of the upstream.</summary>
    public string? Host { get; set; }

    /// <summary>Default 587; 465 = implicit TLS.</summary>
    public int? Port { get; set; }

    /// <summary>Verify (default), Encrypt, Opportunistic, None.</summary>
    public string? Tls { get; set; }

    /// <summary>The credential's name in the credentials directory (files NAME.username and NAME.password).</summary>
    public string? Credential { get; set; }

    /// <summary>Recipients per upstream transaction (default 50); more go in further transactions.</summary>
    public int? MaxRecipients { get; set; }
}

/// <summary>Marker for a direct route (<c>direct: {}</c>).</summary>
public sealed class DirectDocument;

/// <summary>A reject route's reply text.</summary>
public sealed class RejectDocument
{
    /// <summary>Text after <c>550 5.7.1</c>.</summary>
    public string? Message { get; set; }
}

/// <summary>A held route's reason (one line, names only, never a secret).</summary>
public sealed class HoldDocument
{
    /// <summary>Why the route's mail waits; deferred recipients carry <c>held: REASON</c>.</summary>
    public string? Reason { get; set; }
}
