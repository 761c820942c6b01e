using MailRelay.Relay.Queue;

namespace MailRelay.Relay.Delivery;

/// <summary>The outcome of one delivery attempt for one recipient.</summary>
/// <param name="Address">The recipient as queued.</param>
/// <param name="State">Delivered, pending (deferred) or failed.</param>
/// <param name="Detail">The reply or error.</param>
/// <param name="Held">Deferred by a hold route (fail closed), not by a failed delivery: released at once when the route is no longer held.</param>
public sealed record RecipientResult(string Address, RecipientState State, string Detail, bool Held = false)
{
    /// <summary>Deferred because the next hop could not be reached at all (no connection or no greeting): the destination is suspended for a while.</summary>
    public bool Unreachable { get; init; }

    /// <summary>Accepted by the next hop.</summary>
    public static RecipientResult Delivered(string address, string detail) => new(address, RecipientState.Delivered, detail);

    /// <summary>Temporary failure: try again later.</summary>
    public static RecipientResult Deferred(string address, string detail) => new(address, RecipientState.Pending, detail);

    /// <summary>Kept by a hold route: deferred with <c>held: REASON</c>, never handed to another route.</summary>
    public static RecipientResult HeldBy(string address, string heldText) => new(address, RecipientState.Pending, heldText, Held: true);

    /// <summary>Permanent failure.</summary>
    public static RecipientResult Failed(string address, string detail) => new(address, RecipientState.Failed, detail);
}
