using MailRelay.Contracts.RoutingTable;

namespace MailRelay.Relay.Delivery;

/// <summary>One delivery: a queued message, to the recipients one route won, through that route's next hop.</summary>
/// <param name="MessageId">Queue id, for logs.</param>
/// <param name="MessagePath">The spooled bytes.</param>
/// <param name="Sender">MAIL FROM as received (empty = null sender).</param>
/// <param name="Recipients">RCPT TO addresses as received.</param>
/// <param name="Relay">The upstream for a relay route; null for direct delivery.</param>
/// <param name="RouteName">The route's name, for logs.</param>
public sealed record DeliveryRequest(
    string MessageId,
    string MessagePath,
    string Sender,
    IReadOnlyList<string> Recipients,
    RelayTarget? Relay,
    string RouteName)
{
    /// <summary>The client declared SMTPUTF8: a UTF-8 address or header needs a next hop offering it.</summary>
    public bool Utf8 { get; init; }
}
