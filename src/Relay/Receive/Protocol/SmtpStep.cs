namespace MailRelay.Relay.Receive.Protocol;

/// <summary>What the connection does after a command.</summary>
public enum SmtpAction
{
    /// <summary>Send the reply, read the next command.</summary>
    Reply,

    /// <summary>Send the reply, then close the connection.</summary>
    Close,

    /// <summary>Send the 220, then start TLS (the dialogue begins again, RFC 3207).</summary>
    StartTls,

    /// <summary>Send the 354, then read the message.</summary>
    ReadData,

    /// <summary>Run the AUTH exchange for <see cref="SmtpStep.Mechanism"/> (no reply yet).</summary>
    Authenticate,
}

/// <summary>The dialogue's answer to one command.</summary>
public sealed record SmtpStep(SmtpAction Action, SmtpReply? Reply, string? Mechanism = null, string? InitialResponse = null)
{
    /// <summary>Send <paramref name="reply"/>, go on.</summary>
    public static SmtpStep Say(SmtpReply reply) => new(SmtpAction.Reply, reply);

    /// <summary>Send <paramref name="code"/> <paramref name="text"/>, go on.</summary>
    public static SmtpStep Say(int code, string text) => new(SmtpAction.Reply, new SmtpReply(code, text));
}
