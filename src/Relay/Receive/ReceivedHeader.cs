using System.Net;
using System.Text;
using MimeKit.Utils;

namespace MailRelay.Relay.Receive;

/// <summary>The one header the relay adds to a message (RFC 5321 §4.4 trace).</summary>
public static class ReceivedHeader
{
    /// <summary>Formats the header, CRLF-terminated and folded.</summary>
    public static byte[] Format(string helo, IPAddress? client, string hostName, bool tls, bool authenticated, string id, IReadOnlyList<string> recipients, DateTimeOffset now)
    {
        var protocol = "ESMTP" + (tls ? "S" : string.Empty) + (authenticated ? "A" : string.Empty);
        var text = new StringBuilder()
            .Append("Received: from ").Append(Clean(helo)).Append(" ([").Append(client?.ToString() ?? "unknown").Append("])\r\n")
            .Append("\tby ").Append(Clean(hostName)).Append(" (MailRelayOperator) with ").Append(protocol).Append(" id ").Append(id);
        if (recipients.Count == 1)
        {
            text.Append("\r\n\tfor <").Append(Clean(recipients[0])).Append('>');
        }

        text.Append("; ").Append(DateUtils.FormatDate(now)).Append("\r\n");
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private static string Clean(string s)
    {
        var b = new StringBuilder(s.Length);
        foreach (var c in s)
        {
            // ASCII only: a UTF-8 HELO name would put 8-bit octets in a header of mail not flagged SMTPUTF8.
            b.Append(char.IsControl(c) || c > '~' || c is '(' or ')' or ';' ? '_' : c);
        }

        return b.ToString();
    }
}
