using System.Globalization;
using System.Net;

namespace MailRelay.Relay.Receive.Protocol;

/// <summary>Fixed facts the dialogue advertises and enforces.</summary>
public sealed record DialogueSettings(string HostName, long MaxMessageSize, bool TlsAvailable, bool AuthAvailable)
{
    /// <summary>Protocol errors (500–504, 555) after which the client is cut off (Postfix's smtpd_hard_error_limit).</summary>
    public int HardErrorLimit { get; init; } = 20;
}

/// <summary>The mail transaction being built: MAIL, then the accepted RCPTs.</summary>
public sealed record MailTransaction(string Sender, bool Utf8, bool ReturnFull)
{
    /// <summary>The accepted recipients, in order.</summary>
    public List<string> Recipients { get; } = [];
}

/// <summary>
/// The SMTP server dialogue of one connection as pure decisions (RFC 5321, 1869, 1870, 2920, 3207,
/// 4954, 6152, 6531): command sequence, syntax, extensions and their parameters, replies. What the
/// relay allows is asked of an <see cref="IReceivePolicy"/>; sockets, TLS, the message bytes and the
/// spool are the connection's job (<see cref="SmtpConnection"/>).
/// </summary>
public sealed class SmtpDialogue(DialogueSettings settings, IReceivePolicy policy, IPAddress? client)
{
    private static readonly HashSet<string> Mechanisms = new(StringComparer.OrdinalIgnoreCase) { "PLAIN", "LOGIN" };

    private string? _helo;
    private bool _extended;
    private int _errors;

    /// <summary>The greeting: the host name and nothing about the software (no version to look up).</summary>
    public SmtpReply Greeting => new(220, settings.HostName + " ESMTP");

    /// <summary>True once TLS is up.</summary>
    public bool Tls { get; private set; }

    /// <summary>The authenticated user, or null.</summary>
    public string? User { get; private set; }

    /// <summary>The transaction in progress (after MAIL), or null.</summary>
    public MailTransaction? Transaction { get; private set; }

    /// <summary>What the policy and the Received header know of the client.</summary>
    public SessionFacts Facts => new(client, _helo ?? "unknown", Tls, User);

    /// <summary>Answers one command.</summary>
    public SmtpStep Handle(SmtpCommand command)
    {
        var step = command.Verb switch
        {
            SmtpVerb.Helo or SmtpVerb.Ehlo => Hello(command),
            SmtpVerb.Mail => Mail(command.Argument),
            SmtpVerb.Rcpt => Rcpt(command.Argument),
            SmtpVerb.Data => Data(command.Argument),
            SmtpVerb.Rset => command.Argument.Length > 0 ? Syntax("RSET") : Reset(),
            SmtpVerb.Noop => SmtpStep.Say(250, "2.0.0 Ok"),
            SmtpVerb.Quit => new SmtpStep(SmtpAction.Close, new SmtpReply(221, "2.0.0 Bye")),
            SmtpVerb.Vrfy => command.Argument.Length == 0 ? Syntax("VRFY address") : SmtpStep.Say(252, "2.5.2 Cannot VRFY user, but will accept message and attempt delivery"),
            SmtpVerb.Expn => SmtpStep.Say(502, "5.5.1 Error: command not implemented"),
            SmtpVerb.Help => SmtpStep.Say(214, "2.0.0 Commands: HELO EHLO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP" + (settings.TlsAvailable ? " STARTTLS" : string.Empty) + (settings.AuthAvailable ? " AUTH" : string.Empty)),
            SmtpVerb.StartTls => StartTls(command.Argument),
            SmtpVerb.Auth => Auth(command.Argument),
            SmtpVerb.NotImplemented => SmtpStep.Say(502, "5.5.1 Error: command not implemented"),
            _ => SmtpStep.Say(500, "5.5.2 Error: command not recognized"),
        };

        return step.Reply is { Code: >= 500 and <= 504 or 555 } && step.Action == SmtpAction.Reply ? Error(step.Reply) : step;
    }

    /// <summary>A command line longer than the limit (answered, not parsed).</summary>
    public SmtpStep LineTooLong() => Error(new SmtpReply(500, "5.5.2 Error: line too long"));

    /// <summary>A command line that is not valid UTF-8 (answered, not parsed).</summary>
    public SmtpStep NotUtf8() => Error(new SmtpReply(500, "5.5.2 Error: command is not valid UTF-8"));

    /// <summary>
    /// An AUTH exchange that failed (a 535, or a 501 inside the exchange): it counts towards the
    /// error limit like any protocol error, so one connection cannot guess passwords forever.
    /// </summary>
    public SmtpStep AuthFailed(SmtpReply reply) => Error(reply);

    // Counts a protocol error; at the limit the reply ends the session.
    private SmtpStep Error(SmtpReply reply)
    {
        var step = SmtpStep.Say(reply);
        return ++_errors >= settings.HardErrorLimit
            ? new SmtpStep(SmtpAction.Close, new SmtpReply(reply.Code, [.. reply.Lines.Take(reply.Lines.Count - 1), reply.Lines[^1] + " (too many errors, closing)"]))
            : step;
    }

    /// <summary>TLS is up: the client starts again with EHLO (RFC 3207 4.2).</summary>
    public void TlsStarted()
    {
        Tls = true;
        _helo = null;
        _extended = false;
        Transaction = null;
    }

    /// <summary>AUTH succeeded for <paramref name="user"/>.</summary>
    public void Authenticated(string user) => User = user;

    /// <summary>The message has been read (and queued or refused): the transaction is over.</summary>
    public void DataFinished() => Transaction = null;

    private SmtpStep Hello(SmtpCommand command)
    {
        var name = command.Argument;
        if (name.Length == 0 || name.Any(c => c <= ' ' || c == 127))
        {
            return Syntax(command.Verb == SmtpVerb.Ehlo ? "EHLO hostname" : "HELO hostname");
        }

        _helo = name;
        _extended = command.Verb == SmtpVerb.Ehlo;
        Transaction = null;
        if (!_extended)
        {
            return SmtpStep.Say(250, settings.HostName);
        }

        var lines = new List<string>
        {
            settings.HostName,
            "PIPELINING",
            "SIZE " + settings.MaxMessageSize.ToString(CultureInfo.InvariantCulture),
        };
        if (settings.TlsAvailable && !Tls)
        {
            lines.Add("STARTTLS");
        }

        if (settings.AuthAvailable && Tls && User is null)
        {
            lines.Add("AUTH PLAIN LOGIN");
        }

        lines.AddRange(["ENHANCEDSTATUSCODES", "8BITMIME", "SMTPUTF8"]); // Postfix's order
        return SmtpStep.Say(new SmtpReply(250, lines));
    }

    private SmtpStep Mail(string argument)
    {
        if (_helo is null)
        {
            return SmtpStep.Say(503, "5.5.1 Error: send HELO/EHLO first");
        }

        if (Transaction is not null)
        {
            return SmtpStep.Say(503, "5.5.1 Error: nested MAIL command");
        }

        var (path, error) = MailPath.ParseMail(argument);
        if (error is not null)
        {
            return SmtpStep.Say(error);
        }

        long size = 0;
        var utf8 = false;
        var returnFull = false;
        foreach (var (key, value) in path!.Parameters)
        {
            switch (key.ToUpperInvariant())
            {
                case "SIZE" when _extended && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out size):
                    if (size > settings.MaxMessageSize)
                    {
                        return SmtpStep.Say(552, "5.3.4 Message size exceeds fixed limit");
                    }

                    break;
                case "BODY" when _extended && (value?.Equals("7BIT", StringComparison.OrdinalIgnoreCase) == true || value?.Equals("8BITMIME", StringComparison.OrdinalIgnoreCase) == true):
                    break;
                case "SMTPUTF8" when _extended && value is null:
                    utf8 = true;
                    break;
                case "RET" when _extended && (value?.Equals("FULL", StringComparison.OrdinalIgnoreCase) == true || value?.Equals("HDRS", StringComparison.OrdinalIgnoreCase) == true):
                    returnFull = value.Equals("FULL", StringComparison.OrdinalIgnoreCase);
                    break;
                case "ENVID" or "AUTH" when _extended && value is not null:
                    break; // accepted and not used: no DSN extension is offered
                default:
                    return SmtpStep.Say(555, $"5.5.4 Unsupported option: {key}");
            }
        }

        if (path.IsUtf8 && !utf8)
        {
            return SmtpStep.Say(553, "5.6.7 Must declare SMTPUTF8 to send a UTF-8 address");
        }

        if (policy.CheckSender(Facts, path.Address, size) is { } refused)
        {
            return SmtpStep.Say(refused);
        }

        Transaction = new MailTransaction(path.Address, utf8, returnFull);
        return SmtpStep.Say(250, "2.1.0 Ok");
    }

    private SmtpStep Rcpt(string argument)
    {
        if (Transaction is null)
        {
            return SmtpStep.Say(503, "5.5.1 Error: need MAIL command");
        }

        var (path, error) = MailPath.ParseRcpt(argument);
        if (error is not null)
        {
            return SmtpStep.Say(error);
        }

        foreach (var key in path!.Parameters.Keys)
        {
            if (!_extended || !(key.Equals("NOTIFY", StringComparison.OrdinalIgnoreCase) || key.Equals("ORCPT", StringComparison.OrdinalIgnoreCase)))
            {
                return SmtpStep.Say(555, $"5.5.4 Unsupported option: {key}");
            }
        }

        if (path.IsUtf8 && !Transaction.Utf8)
        {
            return SmtpStep.Say(553, "5.6.7 Must declare SMTPUTF8 to send a UTF-8 address");
        }

        // <postmaster> without a domain is always a valid recipient (RFC 5321 4.5.1): the relay's own.
        var recipient = path.IsBarePostmaster ? "postmaster@" + settings.HostName : path.Address;
        if (policy.CheckRecipient(Facts, Transaction.Sender, recipient, Transaction.Recipients.Count) is { } refused)
        {
            return SmtpStep.Say(refused);
        }

        // The same recipient twice gets one copy (Postfix's cleanup removes duplicates too).
        if (!Transaction.Recipients.Contains(recipient, StringComparer.OrdinalIgnoreCase))
        {
            Transaction.Recipients.Add(recipient);
        }

        return SmtpStep.Say(250, "2.1.5 Ok");
    }

    private SmtpStep Data(string argument)
    {
        if (argument.Length > 0)
        {
            return Syntax("DATA");
        }

        if (Transaction is null)
        {
            return SmtpStep.Say(503, "5.5.1 Error: need RCPT command");
        }

        if (Transaction.Recipients.Count == 0)
        {
            return SmtpStep.Say(554, "5.5.1 Error: no valid recipients");
        }

        return new SmtpStep(SmtpAction.ReadData, new SmtpReply(354, "End data with <CR><LF>.<CR><LF>"));
    }

    private SmtpStep Reset()
    {
        Transaction = null;
        return SmtpStep.Say(250, "2.0.0 Ok");
    }

    private SmtpStep StartTls(string argument)
    {
        if (!settings.TlsAvailable)
        {
            return SmtpStep.Say(502, "5.5.1 Error: command not implemented");
        }

        if (argument.Length > 0)
        {
            return Syntax("STARTTLS");
        }

        if (Tls)
        {
            return SmtpStep.Say(503, "5.5.1 Error: TLS already active");
        }

        if (Transaction is not null)
        {
            return SmtpStep.Say(503, "5.5.1 Error: MAIL transaction in progress");
        }

        return new SmtpStep(SmtpAction.StartTls, new SmtpReply(220, "2.0.0 Ready to start TLS"));
    }

    private SmtpStep Auth(string argument)
    {
        if (!settings.AuthAvailable || !Tls)
        {
            return SmtpStep.Say(503, "5.5.1 Error: authentication not enabled" + (settings.AuthAvailable ? " before STARTTLS" : string.Empty));
        }

        if (!_extended)
        {
            return SmtpStep.Say(503, "5.5.1 Error: send EHLO first");
        }

        if (User is not null)
        {
            return SmtpStep.Say(503, "5.5.1 Error: already authenticated");
        }

        if (Transaction is not null)
        {
            return SmtpStep.Say(503, "5.5.1 Error: MAIL transaction in progress");
        }

        var parts = argument.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length is 0 or > 2)
        {
            return Syntax("AUTH mechanism [initial-response]");
        }

        if (!Mechanisms.Contains(parts[0]))
        {
            return SmtpStep.Say(504, "5.5.4 Unsupported authentication mechanism");
        }

        return new SmtpStep(SmtpAction.Authenticate, null, parts[0].ToUpperInvariant(), parts.Length == 2 ? parts[1] : null);
    }

    private static SmtpStep Syntax(string usage) => SmtpStep.Say(501, "5.5.4 Syntax: " + usage);
}
