using System.Buffers;

namespace MailRelay.Relay.Receive;

/// <summary>
/// What the relay refuses in a message's lines, decided at receipt rather than discovered at the
/// next hop: a line over 998 octets (RFC 5322 2.1.1; the next hop would refuse or fold it), and a
/// bare CR or bare LF, which the relay never passes through (SMTP smuggling; the one rule,
/// Postfix's <c>smtpd_forbid_bare_newline</c> with rejection).
/// </summary>
public static class MessageLines
{
    /// <summary>The longest line allowed, without its CRLF.</summary>
    public const int MaxLineOctets = 998;

    /// <summary>Null when every line ends in CRLF and is at most 998 octets; else what is wrong.</summary>
    public static string? Problem(ReadOnlySequence<byte> message)
    {
        var length = 0;
        var afterCr = false;
        foreach (var segment in message)
        {
            foreach (var b in segment.Span)
            {
                if (afterCr)
                {
                    if (b != (byte)'\n')
                    {
                        return "a bare CR (carriage return without line feed)";
                    }

                    afterCr = false;
                    length = 0;
                    continue;
                }

                if (b == (byte)'\r')
                {
                    afterCr = true;
                }
                else if (b == (byte)'\n')
                {
                    return "a bare LF (line feed without carriage return)";
                }
                else if (++length > MaxLineOctets)
                {
                    return $"a line longer than {MaxLineOctets} octets";
                }
            }
        }

        return afterCr ? "a bare CR (carriage return without line feed)" : null;
    }
}
