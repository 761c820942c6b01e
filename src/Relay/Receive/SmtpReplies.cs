using SmtpServer.Protocol;

namespace MailRelay.Relay.Receive;

/// <summary>The replies the relay gives beyond SmtpServer's own.</summary>
internal static class SmtpReplies
{
    /// <summary>An unauthorised client tried to relay (Postfix's reply).</summary>
    public static SmtpResponseException RelayDenied() => Reply(554, "5.7.1 relay access denied");

    /// <summary>A reject route or a default reject.</summary>
    public static SmtpResponseException Rejected(string message) => Reply(550, "5.7.1 " + message);

    /// <summary>An address that does not parse.</summary>
    public static SmtpResponseException BadAddress(string message) => Reply(553, "5.1.3 " + message);

    /// <summary>More recipients than <c>--max-recipients</c> (Postfix's reply; the client sends the rest in another transaction).</summary>
    public static SmtpResponseException TooManyRecipients() => Reply(452, "4.5.3 Error: too many recipients");

    /// <summary>No routing table is loaded yet.</summary>
    public static SmtpResponseException NotReady() => Reply(451, "4.3.0 routing table not loaded yet, try again later");

    /// <summary>A message with a bare CR/LF or an over-long line: refused whole, at receipt.</summary>
    public static SmtpResponse BadLines(string problem) => new((SmtpReplyCode)550, $"5.6.0 message refused: it has {problem}; lines must end in CRLF and hold at most 998 octets");

    /// <summary>Not enough room in the spool (Postfix's reply): the client keeps the message and retries.</summary>
    public static SmtpResponse InsufficientStorage() => new((SmtpReplyCode)452, "4.3.1 Insufficient system storage");

    /// <summary>MAIL FROM's SIZE does not fit in the spool now.</summary>
    public static SmtpResponseException NoRoomFor() => Reply(452, "4.3.1 Insufficient system storage");

    /// <summary>The queue could not be written.</summary>
    public static SmtpResponse QueueWriteFailed() => new((SmtpReplyCode)451, "4.3.0 cannot queue the message now, try again later");

    /// <summary>The message is on disk.</summary>
    public static SmtpResponse Queued(string id) => new(SmtpReplyCode.Ok, "2.0.0 Ok: queued as " + id);

    private static SmtpResponseException Reply(int code, string text) => new(new SmtpResponse((SmtpReplyCode)code, text));
}
