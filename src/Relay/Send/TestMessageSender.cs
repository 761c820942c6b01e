using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MailRelay.Contracts.RoutingTable;
using MailRelay.Relay.Delivery;
using MimeKit;

namespace MailRelay.Relay.Send;

/// <summary>What <c>mailrelay send</c> sends: from, to, subject, with the identity in a directory; <c>Server</c> overrides its host:port.</summary>
public sealed record SendRequest(string IdentityDir, string From, IReadOnlyList<string> To, string Subject, string? Server);

/// <summary>
/// <c>mailrelay send</c>: one test message to the relay as an app sends it — STARTTLS with the relay's
/// certificate verified against the identity's <c>ca.crt</c> (chain and host name), then AUTH with the
/// identity's user and password. Prints the SMTP exchange (the AUTH secret redacted) and the relay's reply.
/// </summary>
public static class TestMessageSender
{
    /// <summary>Sends; 0 when the relay accepted the message, 1 when it refused or could not be reached, 2 for a bad identity.</summary>
    public static async Task<int> SendAsync(SendRequest request, TextWriter output, CancellationToken ct)
    {
        SendingIdentity identity;
        try
        {
            identity = SendingIdentity.Load(request.IdentityDir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            await output.WriteLineAsync("error: " + e.Message);
            return 2;
        }

        var (host, port) = (identity.Host, identity.Port);
        if (request.Server is { } server)
        {
            var colon = server.LastIndexOf(':');
            (host, port) = colon > 0 && int.TryParse(server[(colon + 1)..], out var p) ? (server[..colon], p) : (server, port);
        }

        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(request.From));
        foreach (var to in request.To)
        {
            message.To.Add(MailboxAddress.Parse(to));
        }

        message.Subject = request.Subject;
        message.Body = new TextPart("plain") { Text = $"A test message sent by 'mailrelay send' as {identity.Username}.\n" };

        using var log = new MemoryStream();
        using var client = new SmtpClient(new ProtocolLogger(log, leaveOpen: true) { RedactSecrets = true });
        client.Timeout = 30_000;
        client.ServerCertificateValidationCallback = TlsPolicy.Validator(TlsLevel.Verify, TrustAnchors.Load(identity.CaFile));
        try
        {
            await client.ConnectAsync(host, port, SecureSocketOptions.StartTls, ct);
            await client.AuthenticateAsync(identity.Username, identity.Password, ct);
            var reply = await client.SendAsync(message, ct);
            await client.DisconnectAsync(quit: true, ct);
            await output.WriteAsync(System.Text.Encoding.UTF8.GetString(log.ToArray()));
            await output.WriteLineAsync($"sent as {identity.Username} to {host}:{port}: {reply}");
            return 0;
        }
        catch (Exception e) when (e is SmtpCommandException or SmtpProtocolException or AuthenticationException or SslHandshakeException or IOException or System.Net.Sockets.SocketException or OperationCanceledException)
        {
            await output.WriteAsync(System.Text.Encoding.UTF8.GetString(log.ToArray()));
            var code = e is SmtpCommandException c ? $"{(int)c.StatusCode} " : "";
            await output.WriteLineAsync($"error: not sent ({host}:{port}): {code}{e.Message}");
            return 1;
        }
    }
}
