namespace MailRelay.Relay.Receive.Protocol;

/// <summary>The commands the relay knows.</summary>
public enum SmtpVerb
{
    /// <summary>A command the relay does not know (500).</summary>
    Unknown,

    /// <summary>HELO.</summary>
    Helo,

    /// <summary>EHLO.</summary>
    Ehlo,

    /// <summary>MAIL FROM.</summary>
    Mail,

    /// <summary>RCPT TO.</summary>
    Rcpt,

    /// <summary>DATA.</summary>
    Data,

    /// <summary>RSET.</summary>
    Rset,

    /// <summary>NOOP.</summary>
    Noop,

    /// <summary>QUIT.</summary>
    Quit,

    /// <summary>VRFY.</summary>
    Vrfy,

    /// <summary>EXPN.</summary>
    Expn,

    /// <summary>HELP.</summary>
    Help,

    /// <summary>STARTTLS (RFC 3207).</summary>
    StartTls,

    /// <summary>AUTH (RFC 4954).</summary>
    Auth,

    /// <summary>BDAT, ETRN, TURN and the like: known, not offered (502).</summary>
    NotImplemented,
}

/// <summary>One command line: its verb and the text after it.</summary>
public sealed record SmtpCommand(SmtpVerb Verb, string Name, string Argument)
{
    private static readonly Dictionary<string, SmtpVerb> Verbs = new(StringComparer.OrdinalIgnoreCase)
    {
        ["HELO"] = SmtpVerb.Helo,
        ["EHLO"] = SmtpVerb.Ehlo,
        ["MAIL"] = SmtpVerb.Mail,
        ["RCPT"] = SmtpVerb.Rcpt,
        ["DATA"] = SmtpVerb.Data,
        ["RSET"] = SmtpVerb.Rset,
        ["NOOP"] = SmtpVerb.Noop,
        ["QUIT"] = SmtpVerb.Quit,
        ["VRFY"] = SmtpVerb.Vrfy,
        ["EXPN"] = SmtpVerb.Expn,
        ["HELP"] = SmtpVerb.Help,
        ["STARTTLS"] = SmtpVerb.StartTls,
        ["AUTH"] = SmtpVerb.Auth,
        ["BDAT"] = SmtpVerb.NotImplemented,
        ["ETRN"] = SmtpVerb.NotImplemented,
        ["TURN"] = SmtpVerb.NotImplemented,
        ["ATRN"] = SmtpVerb.NotImplemented,
        ["SEND"] = SmtpVerb.NotImplemented,
        ["SOML"] = SmtpVerb.NotImplemented,
        ["SAML"] = SmtpVerb.NotImplemented,
    };

    /// <summary>Splits a command line (without its CRLF) into verb and argument.</summary>
    public static SmtpCommand Parse(string line)
    {
        var space = line.IndexOf(' ');
        var name = space < 0 ? line : line[..space];
        var argument = space < 0 ? string.Empty : line[(space + 1)..].Trim(' ');
        return new SmtpCommand(Verbs.GetValueOrDefault(name, SmtpVerb.Unknown), name, argument);
    }
}
