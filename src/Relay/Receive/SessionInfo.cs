using System.Net;
using MailRelay.Contracts.Patterns;
using SmtpServer;
using SmtpServer.Mail;
using SmtpServer.Net;

namespace MailRelay.Relay.Receive;

/// <summary>What the adapters need from an SmtpServer session.</summary>
internal static class SessionInfo
{
    /// <summary>Property key for the EHLO/HELO name.</summary>
    public const string HeloKey = "mailrelay.helo";

    /// <summary>The client's IP (IPv4-mapped addresses unmapped), or null.</summary>
    public static IPAddress? ClientAddress(ISessionContext context) =>
        context.Properties.TryGetValue(EndpointListener.RemoteEndPointKey, out var ep) && ep is IPEndPoint ip
            ? (ip.Address.IsIPv4MappedToIPv6 ? ip.Address.MapToIPv4() : ip.Address)
            : null;

    /// <summary>The EHLO/HELO name the client gave.</summary>
    public static string Helo(ISessionContext context) =>
        context.Properties.TryGetValue(HeloKey, out var helo) && helo is string s ? s : "unknown";

    /// <summary>The envelope address of a mailbox; the null sender for an empty one.</summary>
    public static EnvelopeAddress Address(IMailbox? mailbox) =>
        mailbox is null || (string.IsNullOrEmpty(mailbox.User) && string.IsNullOrEmpty(mailbox.Host))
            ? EnvelopeAddress.Null
            : EnvelopeAddress.Parse(Text(mailbox));

    /// <summary>
    /// The address text as received (for the queue and the next hop). SmtpServer hands over a quoted
    /// local part unquoted (<c>"a@b"@x</c> as user <c>a@b</c>): it is quoted again, or the address would change.
    /// </summary>
    public static string Text(IMailbox? mailbox) =>
        mailbox is null || (string.IsNullOrEmpty(mailbox.User) && string.IsNullOrEmpty(mailbox.Host))
            ? string.Empty
            : LocalPart.Quote(mailbox.User) + "@" + mailbox.Host;
}
