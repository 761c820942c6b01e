namespace MailRelay.Relay.Queue;

/// <summary>Where a recipient of a queued message stands.</summary>
public enum RecipientState
{
    /// <summary>Not yet delivered; will be tried (again).</summary>
    Pending,

    /// <summary>The next hop accepted it.</summary>
    Delivered,

    /// <summary>Failed permanently (5xx, reject, expiry).</summary>
    Failed,
}

/// <summary>One recipient of a queued message.</summary>
public sealed class QueueRecipient
{
    /// <summary>The RCPT TO address as received.</summary>
    public required string Address { get; init; }

    /// <summary>Where it stands.</summary>
    public RecipientState State { get; set; }

    /// <summary>The last reply or error, for logs and bounces.</summary>
    public string? LastResult { get; set; }

    /// <summary>The route that last handled it.</summary>
    public string? Route { get; set; }

    /// <summary>True while it is pending because <see cref="Route"/> held it (fail closed), not because a delivery failed.</summary>
    public bool Held { get; set; }
}

/// <summary>The envelope of a queued message, stored as <c>ID.json</c> beside <c>ID.eml</c>.</summary>
public sealed class QueueEntry
{
    /// <summary>Queue id (also the file names).</summary>
    public required string Id { get; init; }

    /// <summary>When the 250 was given.</summary>
    public DateTimeOffset ReceivedAt { get; init; }

    /// <summary>MAIL FROM as received; empty for the null sender.</summary>
    public required string Sender { get; init; }

    /// <summary>The recipients and their state.</summary>
    public required List<QueueRecipient> Recipients { get; init; }

    /// <summary>Delivery attempts so far.</summary>
    public int Attempts { get; set; }

    /// <summary>When to try the pending recipients next.</summary>
    public DateTimeOffset NextAttemptAt { get; set; }

    /// <summary>RET=FULL at MAIL FROM: a bounce returns the whole message, not only its headers.</summary>
    public bool ReturnFull { get; init; }

    /// <summary>SMTPUTF8 at MAIL FROM: the envelope or headers may hold UTF-8, which only a next hop offering SMTPUTF8 may get.</summary>
    public bool Utf8 { get; init; }

    /// <summary>True once the sender has been told the message is delayed (it is told once).</summary>
    public bool DelayWarned { get; set; }

    /// <summary>The client's address, for logs.</summary>
    public string? Client { get; init; }

    /// <summary>True when no recipient is pending any more.</summary>
    public bool IsDone => Recipients.All(r => r.State != RecipientState.Pending);
}
