using MailRelay.Relay.Receive.Protocol;

namespace MailRelay.Relay.Receive;

/// <summary>The relay's policy replies (the protocol's own are in <see cref="SmtpDialogue"/>).</summary>
internal static class SmtpReplies
{
    /// <summary>The client may not use this sender (sending identities: not its domain, or a MailDomain's domain without AUTH).</summary>
    public static SmtpReply SenderNotOwned(string reason) => new(553, "5.7.1 " + reason);

    /// <summary>The client table (--clients) is not loaded yet: the ownership of a sender cannot be decided.</summary>
    public static SmtpReply ClientsNotReady() => new(451, "4.3.0 client table not loaded yet, try again later");

    /// <summary>An unauthorised client tried to relay (Postfix's reply).</summary>
    public static SmtpReply RelayDenied() => new(554, "5.7.1 relay access denied");

    /// <summary>A reject route or a default reject.</summary>
    public static SmtpReply Rejected(string message) => new(550, "5.7.1 " + message);

    /// <summary>An address that does not parse for routing.</summary>
    public static SmtpReply BadAddress(string message) => new(553, "5.1.3 " + message);

    /// <summary>More recipients than <c>--max-recipients</c> (Postfix's reply; the client sends the rest in another transaction).</summary>
    public static SmtpReply TooManyRecipients() => new(452, "4.5.3 Error: too many recipients");

    /// <summary>No routing table is loaded yet.</summary>
    public static SmtpReply NotReady() => new(451, "4.3.0 routing table not loaded yet, try again later");

    /// <summary>A message with a bare CR/LF or an over-long line: refused whole, at receipt.</summary>
    public static SmtpReply BadLines(string problem) => new(550, $"5.6.0 message refused: it has {problem}; lines must end in CRLF and hold at most {DataDecoder.MaxLineOctets} octets");

    /// <summary>A message over <c>--max-message-size</c>.</summary>
    public static SmtpReply TooBig() => new(552, "5.3.4 Message size exceeds fixed limit");

    /// <summary>Not enough room in the spool (Postfix's reply): the client keeps the message and retries.</summary>
    public static SmtpReply InsufficientStorage() => new(452, "4.3.1 Insufficient system storage");

    /// <summary>The queue could not be written.</summary>
    public static SmtpReply QueueWriteFailed() => new(451, "4.3.0 cannot queue the message now, try again later");

    /// <summary>The message is on disk.</summary>
    public static SmtpReply Queued(string id) => new(250, "2.0.0 Ok: queued as " + id);
}
