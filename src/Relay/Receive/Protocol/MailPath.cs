using System.Text;
using MailRelay.Contracts.Patterns;

namespace MailRelay.Relay.Receive.Protocol;

/// <summary>
/// The path of MAIL FROM or RCPT TO and its ESMTP parameters (RFC 5321 4.1.2, RFC 6531). The address
/// is kept in canonical form: a quoted local part is unquoted and quoted again only when it must
/// be (<c>"abc"@x</c> is <c>abc@x</c>; <c>"a@b"@x</c> stays quoted), the domain as given. A source
/// route (<c>&lt;@a,@b:user@d&gt;</c>) is dropped, as RFC 5321 C says a server may.
/// </summary>
public sealed record MailPath(string Address, IReadOnlyDictionary<string, string?> Parameters)
{
    /// <summary>True for <c>&lt;&gt;</c>.</summary>
    public bool IsNull => Address.Length == 0;

    /// <summary>True for <c>&lt;postmaster&gt;</c> without a domain (RFC 5321 4.5.1: always accepted).</summary>
    public bool IsBarePostmaster => Address.Equals("postmaster", StringComparison.OrdinalIgnoreCase);

    /// <summary>True when the address has characters outside ASCII (it needs SMTPUTF8).</summary>
    public bool IsUtf8 => Address.Any(c => c > 127);

    /// <summary>Parses <c>FROM:&lt;address&gt; params</c>; an error reply says what is wrong.</summary>
    public static (MailPath? Path, SmtpReply? Error) ParseMail(string argument) => Parse(argument, "FROM:", isSender: true);

    /// <summary>Parses <c>TO:&lt;address&gt; params</c>; an error reply says what is wrong.</summary>
    public static (MailPath? Path, SmtpReply? Error) ParseRcpt(string argument) => Parse(argument, "TO:", isSender: false);

    private static (MailPath?, SmtpReply?) Parse(string argument, string prefix, bool isSender)
    {
        var syntax = new SmtpReply(501, isSender ? "5.5.4 Syntax: MAIL FROM:<address>" : "5.5.4 Syntax: RCPT TO:<address>");
        if (!argument.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
        {
            return (null, syntax);
        }

        var rest = argument[prefix.Length..].TrimStart(' ');
        string path;
        string tail;
        if (rest.StartsWith('<'))
        {
            var close = ClosingBracket(rest);
            if (close < 0)
            {
                return (null, syntax);
            }

            path = rest[1..close];
            tail = rest[(close + 1)..];
            if (tail.Length > 0 && tail[0] != ' ')
            {
                return (null, syntax);
            }
        }
        else
        {
            // Postfix's lenient form: an address without brackets, up to the first space.
            var space = rest.IndexOf(' ');
            path = space < 0 ? rest : rest[..space];
            tail = space < 0 ? string.Empty : rest[space..];
            if (path.Length == 0)
            {
                return (null, syntax);
            }
        }

        var parameters = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var parameter in tail.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = parameter.IndexOf('=');
            var key = eq < 0 ? parameter : parameter[..eq];
            var value = eq < 0 ? null : parameter[(eq + 1)..];
            if (key.Length == 0 || !key.All(c => char.IsAsciiLetterOrDigit(c) || c == '-') || (value is not null && value.Any(c => c <= ' ' || c == '=')))
            {
                return (null, new SmtpReply(501, $"5.5.4 Bad parameter syntax: {Printable(parameter)}"));
            }

            parameters[key] = value;
        }

        var bad = new SmtpReply(501, isSender ? "5.1.7 Bad sender address syntax" : "5.1.3 Bad recipient address syntax");
        if (path.StartsWith('@'))
        {
            var colon = path.IndexOf(':');
            if (colon < 0)
            {
                return (null, bad);
            }

            path = path[(colon + 1)..];
            if (path.Length == 0)
            {
                return (null, bad); // "<@relay:>" is no mailbox, least of all the null sender
            }
        }

        if (path.Length == 0)
        {
            return isSender ? (new MailPath(string.Empty, parameters), null) : (null, new SmtpReply(501, "5.1.3 A recipient address is required"));
        }

        if (!isSender && path.Equals("postmaster", StringComparison.OrdinalIgnoreCase))
        {
            return (new MailPath(path, parameters), null);
        }

        return Canonical(path) is { } address ? (new MailPath(address, parameters), null) : (null, bad);
    }

    // The index of the '>' that closes the path, skipping quoted strings; -1 when there is none.
    private static int ClosingBracket(string text)
    {
        var quoted = false;
        for (var i = 1; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted && c == '\\')
            {
                i++;
            }
            else if (c == '"')
            {
                quoted = !quoted;
            }
            else if (c == '>' && !quoted)
            {
                return i;
            }
        }

        return -1;
    }

    // local@domain in canonical form, or null when it is not a mailbox.
    private static string? Canonical(string mailbox)
    {
        string local;
        int at;
        if (mailbox.StartsWith('"'))
        {
            var text = new StringBuilder();
            var i = 1;
            for (; i < mailbox.Length && mailbox[i] != '"'; i++)
            {
                if (mailbox[i] == '\\' && i + 1 < mailbox.Length)
                {
                    i++;
                }

                if (char.IsControl(mailbox[i]))
                {
                    return null;
                }

                text.Append(mailbox[i]);
            }

            if (i + 1 >= mailbox.Length || mailbox[i + 1] != '@')
            {
                return null;
            }

            local = text.ToString();
            at = i + 1;
        }
        else
        {
            at = mailbox.LastIndexOf('@');
            if (at <= 0)
            {
                return null;
            }

            local = mailbox[..at];
            if (local.Any(c => c <= ' ' || c == 127 || "\"(),:;<>@[\\]".Contains(c)))
            {
                return null;
            }
        }

        var domain = mailbox[(at + 1)..];
        return local.Length > 0 && IsDomain(domain) ? LocalPart.Quote(local) + "@" + domain : null;
    }

    private static bool IsDomain(string domain)
    {
        if (domain.StartsWith('[') && domain.EndsWith(']'))
        {
            var literal = domain[1..^1];
            return literal.StartsWith("IPv6:", StringComparison.OrdinalIgnoreCase)
                ? System.Net.IPAddress.TryParse(literal[5..], out var v6) && v6.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
                : System.Net.IPAddress.TryParse(literal, out var v4) && v4.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && literal.Count(c => c == '.') == 3;
        }

        if (domain.Length is 0 or > 255)
        {
            return false;
        }

        foreach (var label in domain.Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-' || !label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-' || (c > 127 && char.IsLetterOrDigit(c)) || (c > 127 && char.GetUnicodeCategory(c) is System.Globalization.UnicodeCategory.NonSpacingMark or System.Globalization.UnicodeCategory.SpacingCombiningMark)))
            {
                return false;
            }
        }

        return true;
    }

    private static string Printable(string s) => new(s.Select(c => char.IsControl(c) ? '?' : c).Take(64).ToArray());
}
