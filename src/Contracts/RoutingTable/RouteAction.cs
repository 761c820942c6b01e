namespace MailRelay.Contracts.RoutingTable;

/// <summary>What a route does with the recipients it wins.</summary>
public enum RouteAction
{
    /// <summary>Deliver through an upstream relay (smarthost).</summary>
    Relay,

    /// <summary>Deliver to the recipient domain's MX hosts.</summary>
    Direct,

    /// <summary>Refuse at RCPT with 550 5.7.1.</summary>
    Reject,

    /// <summary>
    /// Fail closed: accept at RCPT, keep the mail queued and deferred with the route's hold reason,
    /// never hand it to another route or the default action (a relay route whose credential is
    /// missing or incomplete).
    /// </summary>
    Hold,
}
