using System.Text;

namespace MailRelay.Relay.Receive.Protocol;

/// <summary>
/// The challenge/response of AUTH PLAIN and AUTH LOGIN (RFC 4954, 4616): which 334 to send next,
/// or the user name and password once given, or why the exchange failed. Pure: the connection
/// reads the lines, the authenticator checks the password.
/// </summary>
public sealed class AuthExchange
{
    private readonly string _mechanism;
    private string? _user;

    private AuthExchange(string mechanism) => _mechanism = mechanism;

    /// <summary>The exchange's result so far.</summary>
    public sealed record Result(SmtpReply? Challenge, SmtpReply? Error, string? User, string? Password);

    /// <summary>Starts <paramref name="mechanism"/> (PLAIN or LOGIN) with the optional initial response.</summary>
    public static (AuthExchange Exchange, Result First) Start(string mechanism, string? initialResponse)
    {
        var exchange = new AuthExchange(mechanism);
        if (initialResponse is null)
        {
            return (exchange, new Result(new SmtpReply(334, mechanism == "LOGIN" ? "VXNlcm5hbWU6" : string.Empty), null, null, null));
        }

        return (exchange, exchange.Next(initialResponse));
    }

    /// <summary>The client's answer to the last 334.</summary>
    public Result Next(string line)
    {
        if (line == "*")
        {
            return Fail(501, "5.7.0 Authentication aborted");
        }

        byte[] decoded;
        try
        {
            decoded = line == "=" ? [] : Convert.FromBase64String(line);
        }
        catch (FormatException)
        {
            return Fail(501, "5.5.2 Cannot decode response");
        }

        var text = Encoding.UTF8.GetString(decoded);
        if (_mechanism == "PLAIN")
        {
            var parts = text.Split('\0');
            if (parts.Length != 3 || parts[1].Length == 0)
            {
                return Fail(501, "5.5.2 Cannot decode response");
            }

            // RFC 4616: acting as another identity (authzid) is not granted to anyone here.
            return parts[0].Length == 0 || parts[0] == parts[1]
                ? new Result(null, null, parts[1], parts[2])
                : Fail(535, "5.7.8 Authentication credentials invalid");
        }

        if (_user is null)
        {
            _user = text;
            return new Result(new SmtpReply(334, "UGFzc3dvcmQ6"), null, null, null);
        }

        return _user.Length > 0 ? new Result(null, null, _user, text) : Fail(501, "5.5.2 Cannot decode response");
    }

    private static Result Fail(int code, string text) => new(null, new SmtpReply(code, text), null, null);
}
