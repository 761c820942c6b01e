using System.Text;

namespace MailRelay.Relay.Receive.Protocol;

/// <summary>An SMTP reply: a code and one or more lines of text (RFC 5321 4.2).</summary>
public sealed record SmtpReply(int Code, IReadOnlyList<string> Lines)
{
    /// <summary>A one-line reply.</summary>
    public SmtpReply(int code, string text)
        : this(code, [text])
    {
    }

    /// <summary>True for 4xx and 5xx.</summary>
    public bool IsError => Code >= 400;

    /// <summary>The reply as sent: <c>250-first</c> … <c>250 last</c>, each line CRLF-terminated.</summary>
    public byte[] ToBytes()
    {
        var text = new StringBuilder();
        for (var i = 0; i < Lines.Count; i++)
        {
            text.Append(Code).Append(i == Lines.Count - 1 ? ' ' : '-').Append(Lines[i]).Append("\r\n");
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <inheritdoc />
    public override string ToString() => $"{Code} {string.Join(" / ", Lines)}";
}
