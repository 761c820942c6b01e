using System.Security.Cryptography;
using System.Text;
using MailKit.Security;
using MailRelay.Contracts.RoutingTable;
using MailRelay.Relay.Cli;
using MailRelay.Relay.Config;
using Microsoft.Extensions.Logging;

namespace MailRelay.Relay.Delivery;

/// <summary>
/// Delivers through an authenticated upstream relay (SES and the like): the route's TLS level,
/// AUTH with the best mechanism both sides offer, and never a credential over a connection that
/// is not encrypted. Connections are pooled per (upstream, TLS level, credential).
/// </summary>
public sealed class RelayAgent(RelayOptions options, TrustAnchors anchors, SmtpConnectionPool pool, ILogger<RelayAgent> logger) : IDeliveryAgent
{
    /// <inheritdoc />
    public async Task<IReadOnlyList<RecipientResult>> DeliverAsync(DeliveryRequest request, CredentialSet credentials, CancellationToken ct)
    {
        var target = request.Relay ?? throw new ArgumentException("a relay delivery needs a relay target", nameof(request));
        var credential = target.Credential is { } name ? credentials.Find(name) : null;
        if (target.Credential is not null && credential is null)
        {
            return Defer(request, $"credential '{target.Credential}' is not loaded");
        }

        var key = PoolKey(target, credential);
        for (var attempt = 0; attempt < 2; attempt++)
        {
            var pooled = pool.Rent(key);
            var client = pooled ?? new RecordingSmtpClient();
            var reached = pooled is not null;
            string? certificateProblem = null;
            try
            {
                if (pooled is null)
                {
                    await ConnectAsync(client, target, credential, () => reached = true, problem => certificateProblem = problem, ct);
                }

                var results = await MessageTransmitter.SendAsync(client, request, target.RecipientsPerTransaction, ct);
                pool.Return(key, client);
                return results;
            }
            catch (Exception e) when (pooled is not null && SmtpFailure.IsConnectionFailure(e) && !ct.IsCancellationRequested)
            {
                SmtpConnectionPool.Close(client); // the pooled connection had gone stale: retry once on a fresh one
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                SmtpConnectionPool.Close(client);
                var detail = $"{target.Host}:{target.Port}: {SmtpFailure.Describe(e, certificateProblem)}";
                logger.LogWarning("Delivery of {Id} via route {Route} failed: {Detail}", request.MessageId, request.RouteName, detail);
                if (SmtpFailure.IsPermanent(e))
                {
                    return request.Recipients.Select(r => RecipientResult.Failed(r, detail)).ToList();
                }

                // No connection or no greeting: the destination is unreachable (a TLS or AUTH problem is not that).
                var unreachable = !reached && SmtpFailure.IsConnectionFailure(e) && e is not MailKit.Security.SslHandshakeException;
                return request.Recipients.Select(r => RecipientResult.Deferred(r, detail) with { Unreachable = unreachable }).ToList();
            }
        }

        return Defer(request, $"{target.Host}:{target.Port}: connection lost twice");
    }

    private async Task ConnectAsync(RecordingSmtpClient client, RelayTarget target, System.Net.NetworkCredential? credential, Action reached, Action<string> certificateRejected, CancellationToken ct)
    {
        client.Timeout = (int)options.SmtpTimeout.TotalMilliseconds;
        client.CheckCertificateRevocation = false;
        client.ServerCertificateValidationCallback = TlsPolicy.Validator(target.Tls, anchors, certificateRejected);
        client.LocalDomain = options.HostName;
        var socket = await SmtpSocket.ConnectAsync(target.Host, target.Port, options.SmtpTimeout, ct);
        client.Connected += (_, _) => reached(); // greeting, EHLO and any STARTTLS done
        await client.ConnectAsync(socket, target.Host, target.Port, TlsPolicy.SocketOptions(target.Tls, target.ImplicitTls), ct);

        if (target.RequiresTls && !client.IsSecure)
        {
            throw new SslHandshakeException($"tls {target.Tls} requires TLS but the connection is not encrypted");
        }

        if (credential is not null)
        {
            if (!client.IsSecure)
            {
                throw new AuthenticationException("refusing to send credentials over an unencrypted connection");
            }

            await client.AuthenticateAsync(credential, ct); // MailKit picks the strongest mechanism both sides offer
        }
    }

    private static string PoolKey(RelayTarget target, System.Net.NetworkCredential? credential)
    {
        var secret = credential is null ? string.Empty
            : Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(credential.UserName + "\0" + credential.Password)))[..16];
        return $"{target.Host}:{target.Port}/{target.Tls}/{secret}";
    }

    private static List<RecipientResult> Defer(DeliveryRequest request, string detail) =>
        request.Recipients.Select(r => RecipientResult.Deferred(r, detail)).ToList();
}
