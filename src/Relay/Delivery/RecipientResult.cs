using MailRelay.Relay.Queue;

namespace MailRelay.Relay.Delivery;

/// <summary>The outcome of one delivery attempt for one recipient.</summary>
public sealed record RecipientResult(string Address, RecipientState State, string Detail)
{
    /// <summary>Accepted by the next hop.</summary>
    public static RecipientResult Delivered(string address, string detail) => new(address, RecipientState.Delivered, detail);

    /// <summary>Temporary failure: try again later.</summary>
    public static RecipientResult Deferred(string address, string detail) => new(address, RecipientState.Pending, detail);

    /// <summary>Permanent failure.</summary>
    public static RecipientResult Failed(string address, string detail) => new(address, RecipientState.Failed, detail);
}
