namespace MailRelay.Relay.Delivery;

/// <summary>Delivers one (message, route) group to its next hop.</summary>
public interface IDeliveryAgent
{
    /// <summary>Attempts the delivery; returns a result per recipient and never throws for delivery errors.</summary>
    Task<IReadOnlyList<RecipientResult>> DeliverAsync(DeliveryRequest request, Config.CredentialSet credentials, CancellationToken ct);
}
