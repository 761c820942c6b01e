namespace MailRelay.Relay.Queue;

/// <summary>Where newly queued messages are handed for delivery.</summary>
public interface IDeliveryQueue
{
    /// <summary>Schedules a message that is already durable on disk.</summary>
    void Enqueue(QueueEntry entry);
}
