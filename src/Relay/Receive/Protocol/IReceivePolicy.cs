namespace MailRelay.Relay.Receive.Protocol;

/// <summary>The relay's decisions at MAIL and RCPT (access, routes, limits, room in the spool).</summary>
public interface IReceivePolicy
{
    /// <summary>Null to accept the sender, else the refusal.</summary>
    SmtpReply? CheckSender(SessionFacts session, string sender, long declaredSize);

    /// <summary>Null to accept the recipient, else the refusal; <paramref name="accepted"/> recipients are in the transaction already.</summary>
    SmtpReply? CheckRecipient(SessionFacts session, string sender, string recipient, int accepted);
}

/// <summary>What is known of the client when a decision is made.</summary>
public sealed record SessionFacts(System.Net.IPAddress? Client, string Helo, bool Tls, string? User);
