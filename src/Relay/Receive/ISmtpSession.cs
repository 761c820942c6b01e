namespace MailRelay.Relay.Receive;

/// <summary>What the <see cref="SessionTable"/> can do to a session: send a last reply and end it.</summary>
public interface ISmtpSession
{
    /// <summary>Sends <paramref name="reply"/> (a 421) and closes the connection; later calls do nothing.</summary>
    Task Goodbye(ReadOnlyMemory<byte> reply);
}
