using System.Net.Sockets;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;

namespace MailRelay.Relay.Delivery;

/// <summary>Classifies delivery errors: 5xx is permanent; 4xx, time-outs, connection and TLS failures are temporary.</summary>
public static class SmtpFailure
{
    /// <summary>True when the error means "do not try again".</summary>
    public static bool IsPermanent(Exception e) => e is SmtpCommandException { StatusCode: var code } && (int)code >= 500;

    /// <summary>True when the error is about reaching the server at all (so the next MX may be tried).</summary>
    public static bool IsConnectionFailure(Exception e) =>
        e is SocketException or IOException or TimeoutException or SslHandshakeException or ServiceNotConnectedException
        || e is SmtpProtocolException
        || e is OperationCanceledException;

    /// <summary>
    /// A one-line description with no secrets (MailKit's messages hold none; credentials are never formatted).
    /// <paramref name="certificateProblem"/>: why our certificate check refused the server's certificate, when it did.
    /// </summary>
    public static string Describe(Exception e, string? certificateProblem = null) => e switch
    {
        SmtpCommandException c => $"{(int)c.StatusCode} {c.Message}",
        SslHandshakeException when certificateProblem is not null => "TLS handshake failed: " + certificateProblem,
        SslHandshakeException => "TLS handshake failed: the certificate was not trusted or does not match the host name",
        AuthenticationException a => "authentication failed: " + a.Message,
        _ => $"{e.GetType().Name}: {e.Message}",
    };
}
